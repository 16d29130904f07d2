"""A worker never runs more at once than its own limit, its pool's or its queue's concurrency limit."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from worker_support import WorkerProcess, create_run, deploy, final_run

from headwater._wiring import call
from headwater.core.states import StateType
from headwater.schemas.work_pools import WorkPoolCreate, WorkQueueCreate

pytestmark = pytest.mark.slow

StartWorker = Callable[..., WorkerProcess]

RUNS = 3


def _spans(folder: Path) -> list[tuple[float, float]]:
    spans = []
    for path in folder.iterdir():
        start, end = path.read_text().split()
        spans.append((float(start), float(end)))
    return sorted(spans)


@pytest.mark.parametrize("limited_by", ["worker", "pool", "queue"])
def test_runs_never_overlap_under_a_limit_of_one(
    limited_by: str, pool: str, start_worker: StartWorker, tmp_path: Path
) -> None:
    queue = None
    if limited_by == "pool":
        call(lambda o: o.create_work_pool(WorkPoolCreate(name=pool, concurrency_limit=1)))
    elif limited_by == "queue":
        queue = "one-at-a-time"
        call(lambda o: o.create_work_pool(WorkPoolCreate(name=pool)))
        call(lambda o: o.create_work_queue(pool, WorkQueueCreate(name="one-at-a-time", concurrency_limit=1)))
    deployment = deploy(tmp_path / "project", "span", pool=pool, queue=queue)
    spans = tmp_path / "spans"
    spans.mkdir()
    runs = [create_run(deployment, folder=str(spans), seconds=0.5) for _ in range(RUNS)]

    start_worker(pool, *(["--limit", "1"] if limited_by == "worker" else []))

    for run in runs:
        assert final_run(run.id, timeout=90).state_type is StateType.COMPLETED
    recorded = _spans(spans)
    assert len(recorded) == RUNS
    for (_, end), (next_start, _) in itertools.pairwise(recorded):
        assert next_start >= end, f"two runs overlapped: {recorded}"


def test_without_limits_runs_go_on_side_by_side(pool: str, start_worker: StartWorker, tmp_path: Path) -> None:
    deployment = deploy(tmp_path / "project", "span", pool=pool)
    spans = tmp_path / "spans"
    spans.mkdir()
    start_worker(pool, "--limit", "2")

    runs = [create_run(deployment, folder=str(spans), seconds=3.0) for _ in range(2)]

    for run in runs:
        assert final_run(run.id, timeout=90).state_type is StateType.COMPLETED
    (_, first_end), (second_start, _) = _spans(spans)
    assert second_start < first_end
