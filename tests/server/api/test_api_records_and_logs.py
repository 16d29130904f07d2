"""Task runs and their state histories, log lines, and the batched `POST /api/records/` the SDK writes
behind its hot path (idempotent: the same batch twice records nothing twice)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from api_support import body, history, ok

from headwater.core.states import StateType
from headwater.schemas.actions import Heartbeat, LogCreate, RecordBatch

if TYPE_CHECKING:
    from conftest import Factory

S = StateType


def _parent_and_child(make: Factory) -> RecordBatch:
    """A parent flow run with two tasks (each PENDING → RUNNING → COMPLETED), one of which stands for a
    subflow call whose child run is in the batch too; log lines at three levels; a heartbeat."""
    parent = make.flow_run("parent", make.state(S.RUNNING, 0))
    batch = RecordBatch(flow_runs=[parent])
    for i in range(2):
        task_run = make.task_run(parent.id, make.state(S.PENDING, i + 1), name=f"step-{i}", task_key="step")
        batch.task_runs.append(task_run)
        batch.task_run_states.append(make.record(task_run.id, make.state(S.RUNNING, i + 1.2), run_count=1))
        batch.task_run_states.append(make.record(task_run.id, make.state(S.COMPLETED, i + 1.4), run_count=1))
    call = batch.task_runs[1]
    child = make.flow_run("child", make.state(S.RUNNING, 2.1), parent_task_run_id=call.id)
    batch.flow_runs.append(child)
    batch.flow_run_states.append(make.record(child.id, make.state(S.COMPLETED, 2.3), run_count=1))
    batch.flow_run_states.append(make.record(parent.id, make.state(S.COMPLETED, 5), run_count=1))
    for i, (level, run, task_run) in enumerate(
        [(20, parent, None), (10, parent, batch.task_runs[0]), (40, parent, batch.task_runs[0]), (30, child, None)]
    ):
        batch.logs.append(
            LogCreate(
                name="etl",
                level=level,
                message=f"line {i} 🚀",
                timestamp=make.at(1 + i / 10),
                flow_run_id=run.id,
                task_run_id=None if task_run is None else task_run.id,
            )
        )
    batch.heartbeats.append(Heartbeat(flow_run_id=parent.id, timestamp=make.at(3)))
    return batch


async def _everything(client: httpx.AsyncClient) -> dict[str, Any]:
    """Every run, task run, history and log line the API returns, to compare before and after."""
    runs = ok(await client.post("/api/flow_runs/filter", json={"sort": "START_TIME_ASC"}))
    task_runs = ok(await client.post("/api/task_runs/filter"))
    return {
        "runs": runs,
        "task_runs": task_runs,
        "flow_run_states": [await history(client, "flow_run", r["id"]) for r in runs],
        "task_run_states": [await history(client, "task_run", t["id"]) for t in task_runs],
        "logs": ok(await client.post("/api/logs/filter")),
        "count": ok(await client.post("/api/flow_runs/count")),
    }


async def test_a_record_batch_stores_runs_task_runs_states_and_logs(client: httpx.AsyncClient, make: Factory) -> None:
    batch = _parent_and_child(make)
    parent, child = batch.flow_runs
    ok(await client.post("/api/records/", json=body(batch)), 204)

    parent_run = ok(await client.get(f"/api/flow_runs/{parent.id}"))
    assert (parent_run["state_type"], parent_run["run_count"]) == ("COMPLETED", 1)
    assert parent_run["heartbeat"] is not None
    child_run = ok(await client.get(f"/api/flow_runs/{child.id}"))
    assert (child_run["state_type"], child_run["parent_flow_run_id"]) == ("COMPLETED", str(parent.id))
    subflows = ok(await client.post("/api/flow_runs/filter", json={"parent_flow_run_id": str(parent.id)}))
    assert [r["id"] for r in subflows] == [str(child.id)]

    task_runs = ok(await client.post("/api/task_runs/filter", json={"flow_run_id": [str(parent.id)]}))
    assert [t["name"] for t in task_runs] == ["step-0", "step-1"]
    assert all(t["state_type"] == "COMPLETED" and t["run_count"] == 1 for t in task_runs)
    one = ok(await client.get(f"/api/task_runs/{batch.task_runs[0].id}"))
    assert one == task_runs[0]
    assert await history(client, "task_run", batch.task_runs[0].id) == ["PENDING", "RUNNING", "COMPLETED"]
    assert await history(client, "flow_run", parent.id) == ["RUNNING", "COMPLETED"]
    completed = ok(await client.post("/api/task_runs/filter", json={"state_type": ["COMPLETED"], "limit": 1}))
    assert [t["name"] for t in completed] == ["step-0"]


async def test_the_same_batch_twice_records_nothing_twice(client: httpx.AsyncClient, make: Factory) -> None:
    batch = _parent_and_child(make)
    ok(await client.post("/api/records/", json=body(batch)), 204)
    before = await _everything(client)
    assert len(before["logs"]) == 4 and len(before["task_runs"]) == 2 and before["count"] == 2

    ok(await client.post("/api/records/", json=body(batch)), 204)

    after = await _everything(client)
    for run in before["runs"] + after["runs"] + before["task_runs"] + after["task_runs"]:
        run.pop("updated")
    assert after == before


async def test_an_empty_batch_is_accepted(client: httpx.AsyncClient) -> None:
    ok(await client.post("/api/records/", json={}), 204)
    ok(await client.post("/api/records/", json=body(RecordBatch())), 204)


async def test_logs_are_filtered_by_run_task_run_and_level(client: httpx.AsyncClient, make: Factory) -> None:
    batch = _parent_and_child(make)
    parent, child = batch.flow_runs
    ok(await client.post("/api/records/", json=body(batch)), 204)

    async def messages(**filter_: Any) -> list[str]:
        return [line["message"] for line in ok(await client.post("/api/logs/filter", json=filter_))]

    assert await messages() == ["line 0 🚀", "line 1 🚀", "line 2 🚀", "line 3 🚀"]  # in emission order
    assert await messages(flow_run_id=[str(parent.id)]) == ["line 0 🚀", "line 1 🚀", "line 2 🚀"]
    assert await messages(flow_run_id=[str(child.id)]) == ["line 3 🚀"]
    assert await messages(task_run_id=[str(batch.task_runs[0].id)]) == ["line 1 🚀", "line 2 🚀"]
    assert await messages(level_ge=30) == ["line 2 🚀", "line 3 🚀"]
    assert await messages(flow_run_id=[str(parent.id)], level_ge=30) == ["line 2 🚀"]
    assert await messages(limit=2, offset=1) == ["line 1 🚀", "line 2 🚀"]


async def test_log_lines_written_directly_are_recorded_once(client: httpx.AsyncClient, make: Factory) -> None:
    run = make.flow_run("etl", make.state(S.RUNNING))
    ok(await client.post("/api/flow_runs/", json=body(run)), 201)
    lines = [
        LogCreate(name="etl", level=20 + 10 * (i % 2), message=f"m{i}", timestamp=make.at(i), flow_run_id=run.id)
        for i in range(50)
    ]
    payload = [body(line) for line in lines]
    ok(await client.post("/api/logs/", json=payload), 201)
    ok(await client.post("/api/logs/", json=payload), 201)  # sent again: recorded once
    stored = ok(await client.post("/api/logs/filter", json={"flow_run_id": [str(run.id)]}))
    assert [line["message"] for line in stored] == [f"m{i}" for i in range(50)]
    warnings = ok(await client.post("/api/logs/filter", json={"flow_run_id": [str(run.id)], "level_ge": 30}))
    assert len(warnings) == 25 and {line["level"] for line in warnings} == {30}


async def test_states_for_runs_the_store_does_not_know_are_skipped(client: httpx.AsyncClient, make: Factory) -> None:
    orphan = make.flow_run("etl")
    batch = RecordBatch(flow_run_states=[make.record(orphan.id, make.state(S.COMPLETED))])
    ok(await client.post("/api/records/", json=body(batch)), 204)
    assert ok(await client.post("/api/flow_runs/count")) == 0
