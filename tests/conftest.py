"""Suite-wide set-up: nothing a test does may touch the user's own `~/.headwater` or a server they
configured, so the whole run gets a private HEADWATER_HOME and no API URL."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_home = tempfile.mkdtemp(prefix="headwater-suite-")


def pytest_configure(config: pytest.Config) -> None:
    os.environ["HEADWATER_HOME"] = _home
    for name in ("HEADWATER_API_URL", "HEADWATER_API_KEY", "HEADWATER_DATABASE_URL", "HEADWATER_PROFILE"):
        os.environ.pop(name, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_home, ignore_errors=True)
