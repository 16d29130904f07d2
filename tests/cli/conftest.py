"""Fixtures for the CLI: `sample`, a throw-away store filled by running real flows (see `sample_store`),
`harness`, an empty one, and `cli`, which runs a `headwater` command in this process against the store
of the harness in force and returns its result.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sample_store import Cli, SampleRuns, run_samples
from typer.testing import CliRunner, Result

from headwater.cli import app
from headwater.testing.utilities import Harness, headwater_test_harness


@pytest.fixture(scope="module")
def sample() -> Iterator[SampleRuns]:
    """A store holding the sample runs (one per test module: the tests only read it)."""
    with headwater_test_harness() as harness:
        yield run_samples(harness)


@pytest.fixture
def harness() -> Iterator[Harness]:
    """An empty throw-away store for one test."""
    with headwater_test_harness() as h:
        yield h


@pytest.fixture
def cli() -> Cli:
    """Run `headwater <args>` in this process; fails the test on an unexpected exception (a traceback)."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        result = runner.invoke(app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"headwater {' '.join(args)} raised") from result.exception
        return result

    return invoke
