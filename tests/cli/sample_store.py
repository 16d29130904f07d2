"""The sample store of the CLI tests, filled by running real flows:

- `etl` (tags `nightly`, `sales`) run three times; its tasks `extract` and `load` log lines with emoji;
- `failing`, whose task `explode` raises;
- `parent`, which runs a task, then the subflow `child` twice.

(A module of its own, not `conftest.py`, so test modules can import its names.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from typer.testing import Result

from headwater import flow, get_run_logger, task
from headwater._wiring import call
from headwater.runtime import flow_run
from headwater.schemas.filters import FlowRunFilter
from headwater.testing.utilities import Harness

Cli = Callable[..., Result]
"""`cli("flow-run", "ls")` runs `headwater flow-run ls` in this process."""


@dataclass(frozen=True)
class SampleRuns:
    """The ids of the flow runs in the sample store, each list in the order the runs started."""

    harness: Harness
    etl: list[UUID]
    failing: UUID
    parent: UUID
    children: list[UUID]


@task
def extract(source: str, rows: int) -> int:
    get_run_logger().info("extracted 🚀 %d rows from %s", rows, source)
    return rows


@task
def load(rows: int) -> int:
    get_run_logger().warning("loaded ✅ %d rows — naïve café", rows)
    return rows


@flow(tags=["nightly", "sales"])
def etl(source: str, rows: int = 10) -> str:
    get_run_logger().info("starting 🌊 %s", source)
    load(extract(source, rows))
    return str(flow_run.id)


@task
def explode() -> None:
    raise ValueError("kaboom 💥")


@flow
def failing() -> None:
    explode()


@flow
def child(n: int) -> str:
    extract("child", n)
    return str(flow_run.id)


@task
def prepare() -> int:
    return 1


@flow
def parent() -> tuple[str, list[str]]:
    prepare()
    children = [child(1), child(2)]
    return str(flow_run.id), children


def run_samples(harness: Harness) -> SampleRuns:
    etl_ids = [UUID(etl(source, rows)) for source, rows in [("crm", 10), ("shop", 20), ("ads", 30)]]
    assert failing(return_state=True).is_failed()
    parent_id, child_ids = parent()
    harness.flush()
    [failing_run] = call(lambda o: o.read_flow_runs(FlowRunFilter(flow_name=["failing"])))
    return SampleRuns(
        harness=harness,
        etl=etl_ids,
        failing=failing_run.id,
        parent=UUID(parent_id),
        children=[UUID(i) for i in child_ids],
    )
