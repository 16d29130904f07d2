"""Fixtures for the SDK tests: every test runs against its own throw-away store, twice: once on the
embedded store, once through a real server (one server process for the session), so the SDK behaves
the same in both modes.

- `harness` (autouse): the test runs inside `headwater_test_harness()`; it gives the `Harness`.
  Tests marked `embedded_only` (they read the store's file or need a store of their own) run once.
- `records`: reads back what runs recorded (`records.flow_run(id)`, `records.task_runs(flow_run_id)` …).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sdk_support import Records

from headwater.testing import utilities
from headwater.testing.utilities import Harness


@pytest.fixture(scope="session")
def sdk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[utilities.HeadwaterServer]:
    """One real server for the session's server-mode tests."""
    with utilities.HeadwaterServer(tmp_path_factory.mktemp("sdk-server")) as server:
        yield server


@pytest.fixture(autouse=True, params=["embedded", "server"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """A fresh home for each test; the embedded store, or the session's server."""
    if request.param == "server":
        server = request.getfixturevalue("sdk_server")
        with utilities.headwater_test_harness(server=server) as h:
            yield h
        return
    with utilities.headwater_test_harness() as h:
        yield h


@pytest.fixture
def records(harness: Harness) -> Records:
    """Reads of the store the test's runs recorded into (on a shared server: only this test's runs)."""
    return Records(since=harness.started_at if harness.server is not None else None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `embedded_only` are not collected in their server-mode variant."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        mode = callspec.params.get("harness") if callspec is not None else None
        (dropped if mode == "server" and item.get_closest_marker("embedded_only") else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
