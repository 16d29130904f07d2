"""Fixtures for the SDK tests: every test runs against its own throw-away store.

- `harness` (autouse): the test runs inside `headwater_test_harness()`; it gives the `Harness`.
- `records`: reads back what runs recorded (`records.flow_run(id)`, `records.task_runs(flow_run_id)` …).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sdk_support import Records

from headwater.testing import utilities
from headwater.testing.utilities import Harness


@pytest.fixture(autouse=True)
def harness() -> Iterator[Harness]:
    """A fresh embedded store (SQLite in a temporary home folder) for each test."""
    with utilities.headwater_test_harness() as h:
        yield h


@pytest.fixture
def records(harness: Harness) -> Records:
    """Reads of the store the test's runs recorded into."""
    return Records()
