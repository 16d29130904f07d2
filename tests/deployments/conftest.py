"""Fixtures of the flow-of-deployments tests: a real server (one per test module; tests use deployments and
pools of their own), worker processes and other programs that are stopped when the test (or module) ends.

- `server`: the `Harness` of a server process over a throw-away store; this process talks to it over HTTP
  and the processes it starts inherit `HEADWATER_API_URL` and `HEADWATER_HOME` (so a caller of
  `run_deployment` reads the results its workers' runs persisted). A module changes the server's
  environment by overriding `server_env`, and this process's settings by overriding `harness_settings`.
- `processes`: starts workers (`processes.worker(pool)`) and Python programs for one test.
- `module_pool`: a work pool served by one worker for the whole module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from p3_support import Processes, unique

from headwater.testing.utilities import Harness, headwater_test_harness

FAST_SCHEDULER = {"HEADWATER_SCHEDULER_LOOP_SECONDS": "0.5"}


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """The server's extra environment (a module may override it)."""
    return dict(FAST_SCHEDULER)


@pytest.fixture(scope="module")
def harness_settings() -> dict[str, Any]:
    """Setting overrides for this process while the module's server runs (a module may override it)."""
    return {}


@pytest.fixture(scope="module")
def server(server_env: dict[str, str], harness_settings: dict[str, Any]) -> Iterator[Harness]:
    """A server process over a throw-away store, shared by the tests of a module."""
    with headwater_test_harness(server=True, server_env=server_env, **harness_settings) as harness:
        yield harness


@pytest.fixture
def processes(server: Harness, tmp_path: Path) -> Iterator[Processes]:
    """Workers and programs for this test; all are stopped (SIGTERM) when it ends."""
    started = Processes(tmp_path)
    yield started
    started.stop_all()


@pytest.fixture(scope="module")
def module_processes(server: Harness, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    """Workers and programs for the whole module."""
    started = Processes(tmp_path_factory.mktemp("module-processes"))
    yield started
    started.stop_all()


@pytest.fixture(scope="module")
def module_pool(module_processes: Processes) -> str:
    """A work pool of the module's own, with one worker polling it."""
    pool = unique("pool")
    module_processes.worker(pool)
    return pool
