"""Fixtures of the worker tests: a real server (one per test module; tests use pools of their own), and
worker processes that are stopped when the test ends.

- `server`: the `Harness` of a server process over a throw-away store; this process talks to it over HTTP
  and the processes it starts inherit `HEADWATER_API_URL`.
- `pool`: a work pool name no other test uses.
- `start_worker`: `start_worker(pool, "--limit", "1")` starts `headwater worker start` and waits until it
  polls; every worker it started is stopped at the end of the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from worker_support import WorkerProcess, unique

from headwater.testing.utilities import Harness, headwater_test_harness


@pytest.fixture(scope="module")
def server() -> Iterator[Harness]:
    """A server process over a throw-away store, shared by the tests of a module."""
    with headwater_test_harness(server=True) as harness:
        yield harness


@pytest.fixture
def pool(server: Harness) -> str:
    """A work pool name of this test's own."""
    return unique("pool")


@pytest.fixture
def start_worker(server: Harness, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start worker processes for the test; all are stopped (SIGTERM) when it ends."""
    started: list[WorkerProcess] = []

    def start(pool: str, *args: str, shutdown_grace: float = 2.0) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess(pool, log, args, shutdown_grace=shutdown_grace)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()
