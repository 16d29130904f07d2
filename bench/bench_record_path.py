"""The writer's cost per task run: turning buffered tuples into a batch, and writing the batch.

A flow of N trivial tasks buffers 2 items per task run (the run with its RUNNING state, then its
COMPLETED state); the recorder turns them into `RecordBatch`es of `record_batch_size` items
(`build_batch`) and writes each through the embedded orchestrator (`record_batch`). Both run on the
SDK's portal thread and share the GIL with the flow, so their CPU time slows the flow down and delays
"every task run readable". This measures them apart from the engine, on a fresh SQLite file (and on
PostgreSQL when `HEADWATER_BENCH_PG_URL` is set: every table of that database is dropped and migrated
afresh, so give it a throw-away database), median of a few repeats.
Wall-clock and CPU time (of the whole process, the driver's thread included) are both reported; on a
loaded machine the CPU time is the steadier figure. Also reported: writing the same batches again
(an idempotent re-send, which stores nothing).
Goal: build + record <= 30 µs per task run on SQLite.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import Goal, report

from headwater.core.states import StateType
from headwater.engine import recorder as rec
from headwater.states import State
from headwater.utilities.ids import new_id

N = 10_000
BATCH = 2000  # the default `record_batch_size`
REPEATS = 3


def buffered_items(n: int) -> list[tuple[Any, ...]]:
    """What a flow of `n` trivial tasks leaves in the recorder's buffer."""
    flow_run_id = new_id()
    items: list[tuple[Any, ...]] = [
        (
            rec.FLOW_RUN,
            {
                "id": flow_run_id,
                "name": "x",
                "flow_name": "f",
                "parameters": {},
                "tags": [],
                "parent_task_run_id": None,
                "state": rec.state_payload(State(StateType.RUNNING)),
            },
        )
    ]
    for i in range(n):
        task_run_id = new_id()
        items.append(
            (
                rec.TASK_RUN,
                task_run_id,
                f"noop-{i}",
                flow_run_id,
                "noop-k",
                i,
                [],
                None,
                None,
                State(StateType.RUNNING),
                1,
            ),
        )
        items.append((rec.TASK_STATE, task_run_id, State(StateType.COMPLETED, data=i), 1))
    return items


async def measure(url: str, reset: bool) -> dict[str, float]:
    from headwater._embedded import EmbeddedOrchestrator

    orchestrator = await EmbeddedOrchestrator.open(url)
    if reset:
        await orchestrator.db.reset()
    try:
        items = buffered_items(N)
        slices = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
        build = record = build_cpu = record_cpu = 0.0
        batches = []
        for chunk in slices:
            start, start_cpu = time.perf_counter(), time.process_time()
            batch = rec.build_batch(chunk)
            built, built_cpu = time.perf_counter(), time.process_time()
            await orchestrator.record(batch)
            build += built - start
            build_cpu += built_cpu - start_cpu
            record += time.perf_counter() - built
            record_cpu += time.process_time() - built_cpu
            batches.append(batch)
        start = time.perf_counter()
        for batch in batches:
            await orchestrator.record(batch)
        again = time.perf_counter() - start
    finally:
        await orchestrator.aclose()
    return {
        "build_batch_us_per_task": build / N * 1e6,
        "record_batch_us_per_task": record / N * 1e6,
        "total_us_per_task": (build + record) / N * 1e6,
        # CPU time of the whole process (the driver's thread included): steadier than the wall clock
        # on a loaded machine.
        "build_batch_cpu_us_per_task": build_cpu / N * 1e6,
        "record_batch_cpu_us_per_task": record_cpu / N * 1e6,
        "total_cpu_us_per_task": (build_cpu + record_cpu) / N * 1e6,
        "record_again_us_per_task": again / N * 1e6,
    }


def median_of(url_for: Any, reset: bool) -> dict[str, float]:
    runs = [asyncio.run(measure(url_for(i), reset)) for i in range(REPEATS)]
    return {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}


def main() -> None:
    metrics: dict[str, Any] = {"n": N, "batch_size": BATCH, "repeats": REPEATS, "load_average_1m": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="headwater-bench-record-") as name:
        folder = Path(name)
        metrics["sqlite"] = median_of(lambda i: f"sqlite+aiosqlite:///{folder}/w{i}.db", reset=False)
    pg_url = os.environ.get("HEADWATER_BENCH_PG_URL")
    if pg_url:
        metrics["postgresql"] = median_of(lambda _i: pg_url, reset=True)
    report(
        "record_path",
        metrics,
        [Goal("writer cost per task run, SQLite (build + record)", metrics["sqlite"]["total_us_per_task"], 30, "µs")],
    )


if __name__ == "__main__":
    sys.exit(main())
