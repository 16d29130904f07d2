"""pytest fixtures, registered automatically when Headwater is installed.

- `headwater_test_harness`: each test that asks for it runs against its own throw-away store and
  receives the `Harness` (its home folder and database URL).
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
