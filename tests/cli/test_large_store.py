"""The CLI on a large store: 100,000 flow runs, and a run with 100,000 log lines.

The store is written in bulk through the orchestrator's `record()` (as the SDK's recorder does), not by
running flows. Timings are printed (run with `-s` to see them); timing goals belong in `bench/`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sample_store import Cli
from typer.testing import Result

from headwater._wiring import call
from headwater.core.states import StateType
from headwater.schemas.actions import FlowRunCreate, LogCreate, RecordBatch, RunStateRecord, TaskRunCreate
from headwater.schemas.states import StateCreate
from headwater.testing.utilities import headwater_test_harness

RUNS = 100_000
BATCH = 5_000
FLOWS = 5
PARENT = 50_000
"""The run that has a subflow: run `PARENT + 1`."""

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class LargeStore:
    """Run `i` is named `run-i`, of flow `flow-{i % 5}`, started `i` seconds after the first; runs whose
    index is a multiple of 10 FAILED, the others COMPLETED."""

    ids: list[UUID]
    subflow_task_run: UUID

    def newest(self, count: int) -> list[str]:
        """The ids of the `count` newest runs, newest first."""
        return [str(run_id) for run_id in reversed(self.ids[-count:])]


def _timed(label: str, cli: Cli, *args: str) -> Result:
    started = time.perf_counter()
    result = cli(*args)
    print(f"{label}: {time.perf_counter() - started:.3f}s")
    assert result.exit_code == 0, result.output
    return result


def _write_runs() -> LargeStore:
    first = datetime.now(UTC) - timedelta(seconds=RUNS + 60)
    ids = [uuid4() for _ in range(RUNS)]
    subflow_task_run = uuid4()
    for start in range(0, RUNS, BATCH):
        batch = RecordBatch()
        for i in range(start, min(start + BATCH, RUNS)):
            began = first + timedelta(seconds=i)
            batch.flow_runs.append(
                FlowRunCreate(
                    id=ids[i],
                    name=f"run-{i}",
                    flow_name=f"flow-{i % FLOWS}",
                    parameters={"i": i},
                    parent_task_run_id=subflow_task_run if i == PARENT + 1 else None,
                    state=StateCreate(type=StateType.RUNNING, timestamp=began),
                )
            )
            final = StateType.FAILED if i % 10 == 0 else StateType.COMPLETED
            ended = began + timedelta(milliseconds=500)
            batch.flow_run_states.append(RunStateRecord(run_id=ids[i], state=StateCreate(type=final, timestamp=ended)))
            if i == PARENT:
                batch.task_runs.append(
                    TaskRunCreate(
                        id=subflow_task_run,
                        name="child-0",
                        flow_run_id=ids[i],
                        task_key="subflow-child",
                        dynamic_key="0",
                        child_flow_run_id=ids[i + 1],
                        state=StateCreate(type=StateType.COMPLETED, timestamp=ended),
                    )
                )
        call(lambda o: o.record(batch))  # noqa: B023 - awaited before the next batch
    return LargeStore(ids=ids, subflow_task_run=subflow_task_run)


@pytest.fixture(scope="module")
def large_store() -> Iterator[LargeStore]:
    """A throw-away store holding 100,000 flow runs."""
    with headwater_test_harness():
        started = time.perf_counter()
        store = _write_runs()
        print(f"\nwrote {RUNS} flow runs in {time.perf_counter() - started:.1f}s")
        yield store


def test_ls_on_100_000_runs(cli: Cli, large_store: LargeStore) -> None:
    listed = json.loads(_timed("ls -o json", cli, "flow-run", "ls", "-o", "json").stdout)
    assert [run["id"] for run in listed] == large_store.newest(20)

    table = _timed("ls (table)", cli, "flow-run", "ls").stdout
    rows = [line for line in table.splitlines() if "run-" in line]
    assert [row.split()[1] for row in rows] == large_store.newest(20)
    assert f"Showing the newest 20 of {RUNS} flow runs" in table

    args = ("flow-run", "ls", "-s", "FAILED", "-f", "flow-0", "-n", "5", "-o", "json")
    failed = json.loads(_timed("ls -s failed -f flow-0 -n 5", cli, *args).stdout)
    newest_failures = [i for i in range(RUNS - 1, -1, -1) if i % 10 == 0][:5]
    assert [run["name"] for run in failed] == [f"run-{i}" for i in newest_failures]

    many = json.loads(_timed("ls -n 2500 -o json", cli, "flow-run", "ls", "-n", "2500", "-o", "json").stdout)
    assert [run["id"] for run in many] == large_store.newest(2500)


def test_inspect_on_100_000_runs(cli: Cli, large_store: LargeStore) -> None:
    parent_id, child_id = large_store.ids[PARENT], large_store.ids[PARENT + 1]

    args = ("flow-run", "inspect", str(parent_id), "-o", "json")
    shown = json.loads(_timed("inspect -o json", cli, *args).stdout)
    assert shown["flow_run"]["name"] == f"run-{PARENT}"
    assert shown["flow_run"]["parameters"] == {"i": PARENT}
    assert [state["type"] for state in shown["state_history"]] == ["RUNNING", "FAILED"]
    assert [task_run["child_flow_run_id"] for task_run in shown["task_runs"]] == [str(child_id)]
    assert [run["id"] for run in shown["subflow_runs"]] == [str(child_id)]

    table = _timed("inspect (table)", cli, "flow-run", "inspect", str(parent_id)).stdout
    assert f"run-{PARENT}" in table and str(child_id) in table

    child = _timed("inspect subflow (table)", cli, "flow-run", "inspect", str(child_id)).stdout
    parent_line = next(line for line in child.splitlines() if line.startswith("Parent flow run"))
    assert str(parent_id) in parent_line


def test_logs_of_a_run_with_100_000_lines(cli: Cli, large_store: LargeStore) -> None:
    run_id = large_store.ids[-1]
    count = 100_000
    first = datetime.now(UTC)
    lines = [
        LogCreate(
            name="bulk",
            level=20,
            message=f"line {i} ✨",
            timestamp=first + timedelta(microseconds=i),
            flow_run_id=run_id,
        )
        for i in range(count)
    ]
    for start in range(0, count, 10_000):
        page = lines[start : start + 10_000]
        call(lambda o: o.create_logs(page))  # noqa: B023 - awaited before the next page

    tail = _timed("logs --tail 3", cli, "flow-run", "logs", str(run_id), "--tail", "3").stdout
    assert [line.rsplit(" - ", 1)[1] for line in tail.splitlines()] == [f"line {i} ✨" for i in range(count - 3, count)]

    every = _timed("logs (text)", cli, "flow-run", "logs", str(run_id)).stdout.splitlines()
    assert len(every) == count and every[-1].endswith(f"line {count - 1} ✨")

    dumped = json.loads(_timed("logs -o json", cli, "flow-run", "logs", str(run_id), "-o", "json").stdout)
    assert [line["message"] for line in dumped] == [f"line {i} ✨" for i in range(count)]
