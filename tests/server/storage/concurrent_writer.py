"""A process that opens a store and writes record batches into it; started several times at once by
`test_concurrency.py`. Not a test module.

    python concurrent_writer.py URL START_AT WORKER BATCHES TASK_RUNS_PER_BATCH
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from headwater.core.states import StateType
from headwater.schemas.actions import FlowRunCreate, LogCreate, RecordBatch, RunStateRecord, TaskRunCreate
from headwater.schemas.states import StateCreate
from headwater.server.services.records import record_batch
from headwater.server.storage.database import Database


def _batch(flow_run_id: uuid.UUID, worker: int, index: int, size: int) -> RecordBatch:
    t0 = datetime.now(UTC)
    task_runs, states, logs = [], [], []
    for i in range(size):
        task_run_id = uuid.uuid4()
        task_runs.append(
            TaskRunCreate(
                id=task_run_id,
                name=f"t-{worker}-{index}-{i}",
                flow_run_id=flow_run_id,
                task_key="t",
                dynamic_key=f"{index}-{i}",
                state=StateCreate(type=StateType.PENDING, timestamp=t0),
            )
        )
        states.append(RunStateRecord(run_id=task_run_id, state=StateCreate(type=StateType.RUNNING, timestamp=t0)))
        done = StateCreate(type=StateType.COMPLETED, timestamp=t0 + timedelta(milliseconds=1))
        states.append(RunStateRecord(run_id=task_run_id, state=done, run_count=1))
        logs.append(
            LogCreate(
                name="w",
                level=20,
                message=f"{i}",
                timestamp=t0,
                flow_run_id=flow_run_id,
                task_run_id=task_run_id,
            )
        )
    return RecordBatch(task_runs=task_runs, task_run_states=states, logs=logs)


async def main(url: str, worker: int, batches: int, size: int) -> None:
    async with Database(url) as db:
        flow_run_id = uuid.uuid4()
        running = StateCreate(type=StateType.RUNNING)
        flow_run = FlowRunCreate(id=flow_run_id, name=f"w{worker}", flow_name=f"flow-{worker % 2}", state=running)
        await record_batch(db, RecordBatch(flow_runs=[flow_run]))
        for index in range(batches):
            await record_batch(db, _batch(flow_run_id, worker, index, size))


if __name__ == "__main__":
    url, start_at, worker, batches, size = sys.argv[1:6]
    # Start together, to collide on migrating the fresh file and on every write after it.
    while time.time() < float(start_at):
        time.sleep(0.001)
    asyncio.run(main(url, int(worker), int(batches), int(size)))
    print("ok")
