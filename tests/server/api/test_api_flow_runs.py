"""Flow runs through the HTTP API: create, read, filter (sorted, paginated), count, delete, and the
orchestration answers to proposed states."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import httpx
from api_support import body, create_run, history, ok, propose

from headwater.core.states import StateType

if TYPE_CHECKING:
    from conftest import Factory

S = StateType


async def test_create_then_read_a_flow_run(client: httpx.AsyncClient, make: Factory) -> None:
    create = make.flow_run("etl", make.state(S.RUNNING, 5), parameters={"n": 3}, tags=["nightly"])
    created = await create_run(client, create)
    assert created["id"] == str(create.id)
    assert (created["name"], created["flow_name"], created["state_type"]) == (create.name, "etl", "RUNNING")
    assert created["parameters"] == {"n": 3} and created["tags"] == ["nightly"]
    read = ok(await client.get(f"/api/flow_runs/{create.id}"))
    assert read == created
    flows = ok(await client.post("/api/flows/filter"))
    assert [f["name"] for f in flows] == ["etl"]
    assert ok(await client.get(f"/api/flows/{created['flow_id']}"))["name"] == "etl"


async def test_creating_the_same_id_again_returns_the_stored_run(client: httpx.AsyncClient, make: Factory) -> None:
    create = make.flow_run("etl", make.state(S.PENDING))
    first = await create_run(client, create)
    again = await create_run(client, create.model_copy(update={"name": "another-name"}))
    assert again == first
    assert ok(await client.post("/api/flow_runs/count")) == 1


async def _five_runs(client: httpx.AsyncClient, make: Factory) -> list[str]:
    """Five runs named run-0 … run-4, started one second apart; etl runs 0, 2, 4 end COMPLETED."""
    ids = []
    for i in range(5):
        create = make.flow_run("etl" if i % 2 == 0 else "report", make.state(S.RUNNING, i), name=f"run-{i}")
        await create_run(client, create)
        if i % 2 == 0:
            assert (await propose(client, create.id, make.state(S.COMPLETED, i + 0.5)))["status"] == "ACCEPT"
        ids.append(str(create.id))
    return ids


async def test_filter_sorts_and_paginates(client: httpx.AsyncClient, make: Factory) -> None:
    ids = await _five_runs(client, make)

    async def page(**filter_: object) -> list[str]:
        return [run["id"] for run in ok(await client.post("/api/flow_runs/filter", json=filter_))]

    assert await page() == ids[::-1]  # newest start first, by default
    assert await page(sort="START_TIME_ASC") == ids
    assert await page(sort="NAME_ASC", limit=2) == ids[:2]
    pages = [await page(sort="START_TIME_ASC", limit=2, offset=offset) for offset in (0, 2, 4)]
    assert pages == [ids[0:2], ids[2:4], ids[4:]]
    assert await page(sort="START_TIME_ASC", offset=5) == []
    assert await page(flow_name=["report"], sort="START_TIME_ASC") == [ids[1], ids[3]]
    assert await page(state_type=["COMPLETED"], sort="START_TIME_ASC") == [ids[0], ids[2], ids[4]]
    assert await page(flow_name=["etl"], state_type=["RUNNING"]) == []
    assert await page(id=[ids[3]]) == [ids[3]]


async def test_count_ignores_limit_and_offset(client: httpx.AsyncClient, make: Factory) -> None:
    await _five_runs(client, make)
    assert ok(await client.post("/api/flow_runs/count")) == 5
    assert ok(await client.post("/api/flow_runs/count", json={"flow_name": ["etl"], "limit": 1, "offset": 1})) == 3
    assert ok(await client.post("/api/flow_runs/count", json={"state_type": ["RUNNING"]})) == 2


async def test_delete_removes_the_run_its_states_task_runs_and_logs(client: httpx.AsyncClient, make: Factory) -> None:
    keep, gone = make.flow_run("etl", make.state(S.RUNNING)), make.flow_run("etl", make.state(S.RUNNING))
    task_run = make.task_run(gone.id, make.state(S.PENDING, 1))
    log = {"name": "l", "level": 20, "message": "bye", "timestamp": make.at(1).isoformat(), "flow_run_id": str(gone.id)}
    batch = {"flow_runs": [body(keep), body(gone)], "task_runs": [body(task_run)], "logs": [log]}
    ok(await client.post("/api/records/", json=batch), 204)

    ok(await client.delete(f"/api/flow_runs/{gone.id}"), 204)

    assert (await client.get(f"/api/flow_runs/{gone.id}")).status_code == 404
    assert (await client.get(f"/api/task_runs/{task_run.id}")).status_code == 404
    assert await history(client, "flow_run", gone.id) == []
    assert ok(await client.post("/api/logs/filter", json={"flow_run_id": [str(gone.id)]})) == []
    assert [r["id"] for r in ok(await client.post("/api/flow_runs/filter"))] == [str(keep.id)]
    again = await client.delete(f"/api/flow_runs/{gone.id}")
    assert again.status_code == 404 and str(gone.id) in again.json()["detail"]


async def test_set_state_accepts_a_valid_transition_and_records_it(client: httpx.AsyncClient, make: Factory) -> None:
    create = make.flow_run("etl", make.state(S.PENDING, 0))
    await create_run(client, create)
    running = make.state(S.RUNNING, 1)
    result = await propose(client, create.id, running)
    assert result["status"] == "ACCEPT"
    assert (result["state"]["id"], result["state"]["type"]) == (str(running.id), "RUNNING")
    result = await propose(client, create.id, make.state(S.COMPLETED, 2, message="all good"))
    assert result["status"] == "ACCEPT"
    run = ok(await client.get(f"/api/flow_runs/{create.id}"))
    assert (run["state_type"], run["state"]["message"]) == ("COMPLETED", "all good")
    assert await history(client, "flow_run", create.id) == ["PENDING", "RUNNING", "COMPLETED"]
    # A second, different end (a late report from a process that lost track) is refused.
    assert (await propose(client, create.id, make.state(S.COMPLETED, 3)))["status"] == "REJECT"
    assert await history(client, "flow_run", create.id) == ["PENDING", "RUNNING", "COMPLETED"]


async def test_retrying_the_same_proposal_is_accepted_once(client: httpx.AsyncClient, make: Factory) -> None:
    create = make.flow_run("etl", make.state(S.PENDING, 0))
    await create_run(client, create)
    running = make.state(S.RUNNING, 1)
    first, second = await propose(client, create.id, running), await propose(client, create.id, running)
    assert first["status"] == second["status"] == "ACCEPT"
    assert await history(client, "flow_run", create.id) == ["PENDING", "RUNNING"]


async def test_set_state_rejects_an_invalid_transition_naming_both_states(
    client: httpx.AsyncClient, make: Factory
) -> None:
    create = make.flow_run("etl", make.state(S.RUNNING, 0))
    await create_run(client, create)
    result = await propose(client, create.id, make.state(S.PENDING, 1))
    assert result["status"] == "REJECT"
    assert "RUNNING" in result["reason"] and "PENDING" in result["reason"], result["reason"]
    assert result["state"]["type"] == "RUNNING"  # the run's state, unchanged
    assert ok(await client.get(f"/api/flow_runs/{create.id}"))["state_type"] == "RUNNING"


async def test_a_finished_run_rejects_another_end(client: httpx.AsyncClient, make: Factory) -> None:
    create = make.flow_run("etl", make.state(S.RUNNING, 0))
    await create_run(client, create)
    await propose(client, create.id, make.state(S.COMPLETED, 1))
    result = await propose(client, create.id, make.state(S.FAILED, 2))
    assert result["status"] == "REJECT"
    assert "COMPLETED" in result["reason"] and "FAILED" in result["reason"], result["reason"]
    # An operator may force it.
    forced = await propose(client, create.id, make.state(S.FAILED, 3), force=True)
    assert forced["status"] == "ACCEPT"
    assert ok(await client.get(f"/api/flow_runs/{create.id}"))["state_type"] == "FAILED"


async def test_a_cancelled_run_aborts_a_proposal_to_run(client: httpx.AsyncClient, make: Factory) -> None:
    create = make.flow_run("etl", make.state(S.SCHEDULED, 0))
    await create_run(client, create)
    await propose(client, create.id, make.state(S.CANCELLED, 1))
    result = await propose(client, create.id, make.state(S.RUNNING, 2))
    assert result["status"] == "ABORT"
    assert "cancelled" in result["reason"].lower() and "RUNNING" in result["reason"], result["reason"]
    assert ok(await client.get(f"/api/flow_runs/{create.id}"))["state_type"] == "CANCELLED"


async def test_state_histories_of_unknown_runs_are_empty(client: httpx.AsyncClient) -> None:
    unknown = uuid.uuid4()
    assert await history(client, "flow_run", unknown) == []
    assert await history(client, "task_run", unknown) == []
