"""pytest fixtures, registered automatically when Headwater is installed.

- `headwater_test_harness`: each test that asks for it runs against its own throw-away store and
  receives the `Harness` (its home folder and database URL).
- `headwater_server_harness`: the same, with a real server process over the store; flows (and the
  processes the test starts) record through its API. The `Harness` carries `api_url` and `server`.
- `headwater_session_server_harness`: one such server for the whole session (cheaper: the server
  starts once; tests share its store).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from headwater.testing.utilities import Harness
from headwater.testing.utilities import headwater_test_harness as _harness


@pytest.fixture
def headwater_test_harness() -> Iterator[Harness]:
    """A throw-away embedded store for one test."""
    with _harness() as harness:
        yield harness


@pytest.fixture
def headwater_server_harness() -> Iterator[Harness]:
    """A throw-away store behind a real server process (on a free port of 127.0.0.1) for one test."""
    with _harness(server=True) as harness:
        yield harness


@pytest.fixture(scope="session")
def headwater_session_server_harness() -> Iterator[Harness]:
    """One throw-away store behind a real server process for the whole test session."""
    with _harness(server=True) as harness:
        yield harness
