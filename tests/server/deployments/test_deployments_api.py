"""The deployment and work pool routes, called over HTTP (in process), and the SDK's HTTP client on them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from deployment_support import create

from headwater.client.http import HTTPOrchestrator
from headwater.core.states import StateType
from headwater.exceptions import HeadwaterHTTPError, InvalidInput, ObjectNotFound
from headwater.schemas.deployments import DeploymentFilter, DeploymentFlowRunCreate, DeploymentUpdate
from headwater.schemas.states import StateCreate
from headwater.schemas.work_pools import (
    GetScheduledFlowRuns,
    WorkerHeartbeat,
    WorkPoolCreate,
    WorkPoolStatus,
    WorkPoolUpdate,
    WorkQueueCreate,
    WorkQueueUpdate,
)
from headwater.server.api.app import create_app
from headwater.server.settings import ServerSettings
from headwater.server.storage.database import Database

ORIGIN = "http://headwater.test"


@contextlib.asynccontextmanager
async def _served(db_url: str) -> AsyncIterator[httpx.ASGITransport]:
    app = create_app(ServerSettings(database_url=db_url), run_loops=False)
    async with app.router.lifespan_context(app):
        yield httpx.ASGITransport(app=app)


def _entered(aio: asyncio.Runner, manager: contextlib.AbstractAsyncContextManager[Any]) -> Iterator[Any]:
    value = aio.run(manager.__aenter__())
    try:
        yield value
    finally:
        aio.run(manager.__aexit__(None, None, None))


@pytest.fixture
def client(db_url: str, db: Database, aio: asyncio.Runner) -> Iterator[httpx.AsyncClient]:
    """An HTTP client of the API over the test's store (emptied by `db`)."""

    @contextlib.asynccontextmanager
    async def open_client() -> AsyncIterator[httpx.AsyncClient]:
        async with _served(db_url) as transport, httpx.AsyncClient(transport=transport, base_url=ORIGIN) as client:
            yield client

    yield from _entered(aio, open_client())


@pytest.fixture
def orchestrator(db_url: str, db: Database, aio: asyncio.Runner) -> Iterator[HTTPOrchestrator]:
    """The SDK's HTTP orchestrator over the API over the test's store."""

    @contextlib.asynccontextmanager
    async def open_orchestrator() -> AsyncIterator[HTTPOrchestrator]:
        async with _served(db_url) as transport:
            orchestrator = HTTPOrchestrator(f"{ORIGIN}/api", transport=transport)
            try:
                yield orchestrator
            finally:
                await orchestrator.aclose()

    yield from _entered(aio, open_orchestrator())


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code} != {status}: {response.text}"
    return response.json() if response.content else None


async def test_deployment_routes(client: httpx.AsyncClient) -> None:
    body = create().model_dump(mode="json")
    applied = ok(await client.post("/api/deployments/", json=body), 201)
    assert applied["created"] and applied["work_pool_created"]
    deployment_id = applied["deployment"]["id"]
    assert not ok(await client.post("/api/deployments/", json=body), 200)["created"]
    assert ok(await client.get(f"/api/deployments/{deployment_id}"))["name"] == "nightly"
    assert ok(await client.get("/api/deployments/name/etl/nightly"))["id"] == deployment_id
    missing = ok(await client.get("/api/deployments/name/etl/weekly"), 404)
    assert missing["detail"] == "No deployment named 'etl/weekly'. Deployments of flow 'etl': nightly."
    assert [d["id"] for d in ok(await client.post("/api/deployments/filter", json={"flow_name": ["etl"]}))] == [
        deployment_id
    ]
    assert len(ok(await client.post("/api/deployments/filter"))) == 1
    paused = ok(await client.patch(f"/api/deployments/{deployment_id}", json={"paused": True, "description": "x"}))
    assert (paused["paused"], paused["description"]) == (True, "x")

    run = ok(
        await client.post(f"/api/deployments/{deployment_id}/create_flow_run", json={"parameters": {"rows": 2}}), 201
    )
    assert (run["parameters"], run["state_type"], run["deployment_id"]) == (
        {"source": "s3", "rows": 2},
        "SCHEDULED",
        deployment_id,
    )
    assert ok(await client.post(f"/api/deployments/{deployment_id}/create_flow_run"), 201)["name"]
    refused = ok(
        await client.post(f"/api/deployments/{deployment_id}/create_flow_run", json={"parameters": {"rows": "x"}}), 409
    )
    assert refused["detail"].startswith(
        "Invalid parameters for deployment etl/nightly: parameter 'rows' must be an integer"
    )
    ok(await client.delete(f"/api/deployments/{deployment_id}"), 204)
    ok(await client.get(f"/api/deployments/{deployment_id}"), 404)


async def test_work_pool_routes(client: httpx.AsyncClient) -> None:
    pool = ok(await client.post("/api/work_pools/", json={"name": "gpu", "type": "docker"}), 201)
    assert (pool["name"], pool["status"]) == ("gpu", "NOT_READY")
    assert ok(await client.post("/api/work_pools/", json={"name": "gpu"}), 409)["detail"].startswith(
        "A work pool named"
    )
    assert ok(await client.post("/api/work_pools/", json={"name": "a/b"}), 422)
    assert ok(await client.get("/api/work_pools/gpu"))["type"] == "docker"
    assert [p["name"] for p in ok(await client.post("/api/work_pools/filter"))] == ["gpu"]
    assert ok(await client.patch("/api/work_pools/gpu", json={"concurrency_limit": 3}))["concurrency_limit"] == 3
    queue = ok(await client.post("/api/work_pools/gpu/queues/", json={"name": "high", "priority": 1}), 201)
    assert queue["work_pool_name"] == "gpu"
    assert [q["name"] for q in ok(await client.get("/api/work_pools/gpu/queues"))] == ["default", "high"]
    assert [q["name"] for q in ok(await client.post("/api/work_pools/gpu/queues/filter"))] == ["default", "high"]
    assert ok(await client.patch("/api/work_pools/gpu/queues/high", json={"paused": True}))["paused"] is True
    assert ok(await client.get("/api/work_pools/gpu/queues/high"))["paused"] is True
    ok(await client.post("/api/work_pools/gpu/workers/heartbeat", json={"name": "w1"}), 204)
    assert [w["name"] for w in ok(await client.post("/api/work_pools/gpu/workers/filter"))] == ["w1"]
    assert ok(await client.get("/api/work_pools/gpu"))["status"] == "READY"
    assert ok(await client.post("/api/work_pools/gpu/get_scheduled_flow_runs")) == []
    ok(await client.delete("/api/work_pools/gpu"), 204)
    assert (
        ok(await client.get("/api/work_pools/gpu"), 404)["detail"]
        == "No work pool named 'gpu'. There are no work pools yet."
    )


async def test_a_long_poll_over_http_returns_when_another_request_creates_a_run(client: httpx.AsyncClient) -> None:
    deployment_id = ok(await client.post("/api/deployments/", json=create().model_dump(mode="json")), 201)[
        "deployment"
    ]["id"]
    started = time.monotonic()
    poll = asyncio.create_task(
        client.post("/api/work_pools/local/get_scheduled_flow_runs", json={"wait_seconds": 20, "worker_name": "w"})
    )
    await asyncio.sleep(0.3)
    assert not poll.done()
    run = ok(await client.post(f"/api/deployments/{deployment_id}/create_flow_run"), 201)
    handed = ok(await asyncio.wait_for(poll, timeout=10))
    assert [r["flow_run"]["id"] for r in handed] == [run["id"]] and time.monotonic() - started < 10
    # Two workers claim it: one wins.
    claims = [StateCreate(type=StateType.PENDING).model_dump(mode="json") for _ in range(2)]
    answers = await asyncio.gather(
        *(client.post(f"/api/flow_runs/{run['id']}/set_state", json={"state": state}) for state in claims)
    )
    assert sorted(ok(answer)["status"] for answer in answers) == ["ACCEPT", "REJECT"]
    waited = ok(await client.get(f"/api/flow_runs/{run['id']}/wait", params={"timeout": 0.2}))
    assert waited["state_type"] == "PENDING"
    assert ok(await client.get(f"/api/flow_runs/{run['id']}/wait", params={"timeout": 100000}), 422)


async def test_the_http_orchestrator_end_to_end(orchestrator: HTTPOrchestrator) -> None:
    o = orchestrator
    applied = await o.apply_deployment(create(work_pool_name="remote pool", schedules=[]))
    deployment = applied.deployment
    assert applied.created and deployment.work_pool_name == "remote pool"
    assert (await o.read_deployment_by_name("etl/nightly")).id == deployment.id
    assert (await o.read_deployment(deployment.id)).name == "nightly"
    assert [d.id for d in await o.read_deployments(DeploymentFilter(work_pool_name=["remote pool"]))] == [deployment.id]
    with pytest.raises(ObjectNotFound, match="Deployments of flow 'etl': nightly"):
        await o.read_deployment_by_name("etl/weekly")
    with pytest.raises(InvalidInput, match="must be 'flow-name/deployment-name'"):
        await o.read_deployment_by_name("nightly")
    updated = await o.update_deployment(deployment.id, DeploymentUpdate(concurrency_limit=2))
    assert updated.concurrency_limit == 2 and updated.description is None
    assert (
        await o.update_deployment(deployment.id, DeploymentUpdate(concurrency_limit=None))
    ).concurrency_limit is None

    with pytest.raises(InvalidInput, match="parameter 'rows' must be an integer") as refused:
        await o.create_flow_run_from_deployment(deployment.id, DeploymentFlowRunCreate(parameters={"rows": "x"}))
    assert isinstance(refused.value, HeadwaterHTTPError) and refused.value.status_code == 409

    await o.worker_heartbeat("remote pool", WorkerHeartbeat(name="w1", heartbeat_interval_seconds=5))
    assert (await o.read_work_pool("remote pool")).status is WorkPoolStatus.READY
    assert [w.name for w in await o.read_workers("remote pool")] == ["w1"]
    poll = asyncio.create_task(o.get_scheduled_flow_runs("remote pool", GetScheduledFlowRuns(wait_seconds=20)))
    await asyncio.sleep(0.3)
    run = await o.create_flow_run_from_deployment(deployment.id, DeploymentFlowRunCreate(idempotency_key="k"))
    assert (
        await o.create_flow_run_from_deployment(deployment.id, DeploymentFlowRunCreate(idempotency_key="k"))
    ).id == run.id
    handed = await asyncio.wait_for(poll, timeout=10)
    assert [r.flow_run.id for r in handed] == [run.id]

    waiting = asyncio.create_task(o.wait_for_flow_run(run.id, 30))
    for state_type in (StateType.PENDING, StateType.RUNNING, StateType.COMPLETED):
        assert (await o.set_flow_run_state(run.id, StateCreate(type=state_type))).status.value == "ACCEPT"
    assert (await asyncio.wait_for(waiting, timeout=10)).state_type is StateType.COMPLETED
    await o.delete_deployment(deployment.id)


async def test_the_http_orchestrator_on_pools_and_queues(orchestrator: HTTPOrchestrator) -> None:
    o = orchestrator
    pool = await o.create_work_pool(WorkPoolCreate(name="p", type="process"))
    with pytest.raises(InvalidInput, match="exists already"):
        await o.create_work_pool(WorkPoolCreate(name="p"))
    assert [p.id for p in await o.read_work_pools()] == [pool.id]
    assert (await o.update_work_pool("p", WorkPoolUpdate(paused=True))).status is WorkPoolStatus.PAUSED
    queue = await o.create_work_queue("p", WorkQueueCreate(name="q q", priority=5))
    assert [q.name for q in await o.read_work_queues("p")] == ["default", "q q"]
    assert (await o.update_work_queue("p", "q q", WorkQueueUpdate(priority=1))).id == queue.id
    assert [q.name for q in await o.read_work_queues("p")] == ["default", "q q"]  # priority ties: by name
    await o.delete_work_pool("p")
    with pytest.raises(ObjectNotFound, match="No work pool named 'p'"):
        await o.read_work_pool("p")
