"""`headwater_test_harness()`: point everything at a throw-away store for the duration of a block.

    from headwater.testing.utilities import headwater_test_harness

    @pytest.fixture(autouse=True, scope="session")
    def headwater_store():
        with headwater_test_harness():
            yield

Inside the block, flows record into a fresh SQLite file in a temporary folder (even if
`HEADWATER_API_URL` is set outside), results are persisted under that folder, and worker processes
started meanwhile inherit the same settings. Everything is flushed and removed at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from headwater.engine.recorder import reset_recorder
from headwater.settings import temporary_settings


@dataclass(frozen=True)
class Harness:
    """What the harness set up."""

    home: Path
    database_url: str

    def flush(self) -> None:
        """Write everything recorded so far (flows flush when they finish; use this for stray logs)."""
        from headwater.engine.recorder import get_recorder

        get_recorder().flush()


def _close_shared_connections() -> None:
    from headwater._wiring import close_shared
    from headwater.engine.portal import get_portal

    get_portal().call(close_shared())


@contextmanager
def headwater_test_harness(**settings: Any) -> Iterator[Harness]:
    """Run the block against a fresh, temporary embedded store; extra keyword arguments override
    settings (e.g. `record_flush_interval_seconds=0.01`)."""
    home = Path(tempfile.mkdtemp(prefix="headwater-test-"))
    database_url = f"sqlite+aiosqlite:///{home / 'headwater.db'}"
    saved_env = {k: os.environ.get(k) for k in ("HEADWATER_HOME", "HEADWATER_API_URL", "HEADWATER_DATABASE_URL")}
    os.environ["HEADWATER_HOME"] = str(home)  # for processes started inside the block
    os.environ.pop("HEADWATER_API_URL", None)
    os.environ.pop("HEADWATER_DATABASE_URL", None)
    reset_recorder()
    try:
        with temporary_settings(home=home, api_url=None, database_url=None, **settings):
            try:
                yield Harness(home, database_url)
            finally:
                reset_recorder()
                _close_shared_connections()
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(home, ignore_errors=True)
