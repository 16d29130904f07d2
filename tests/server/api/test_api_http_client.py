"""The SDK's `HTTPOrchestrator` against the API (in process): every operation round-trips, errors carry
the server's explanation, reads are retried on transient failures and record writes are not."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest
from api_support import API_URL

from headwater.client.http import HTTPOrchestrator
from headwater.core.states import StateType
from headwater.exceptions import HeadwaterHTTPError, ObjectNotFound
from headwater.schemas.actions import LogCreate, RecordBatch
from headwater.schemas.filters import FlowRunFilter, FlowRunSort, LogFilter, TaskRunFilter
from headwater.schemas.responses import SetStateStatus

if TYPE_CHECKING:
    from conftest import Factory

S = StateType


async def test_every_operation_round_trips(orchestrator: HTTPOrchestrator, make: Factory) -> None:
    parent = make.flow_run("etl", make.state(S.PENDING, 0), tags=["a"])
    created = await orchestrator.create_flow_run(parent)
    assert (created.id, created.flow_name, created.state_type) == (parent.id, "etl", S.PENDING)

    result = await orchestrator.set_flow_run_state(parent.id, make.state(S.RUNNING, 1))
    assert result.status is SetStateStatus.ACCEPT
    refused = await orchestrator.set_flow_run_state(parent.id, make.state(S.PENDING, 2))
    assert refused.status is SetStateStatus.REJECT and refused.reason

    task_run = make.task_run(parent.id, make.state(S.PENDING, 2))
    batch = RecordBatch(
        task_runs=[task_run],
        task_run_states=[make.record(task_run.id, make.state(S.COMPLETED, 3), run_count=1)],
        flow_run_states=[make.record(parent.id, make.state(S.COMPLETED, 4), run_count=1)],
    )
    await orchestrator.record(batch)
    await orchestrator.record(batch)  # idempotent
    await orchestrator.create_logs(
        [LogCreate(name="l", level=20, message="héllo 🌊", timestamp=make.at(3), flow_run_id=parent.id)]
    )

    run = await orchestrator.read_flow_run(parent.id)
    assert (run.state_type, run.tags) == (S.COMPLETED, ["a"])
    assert [s.type for s in await orchestrator.read_flow_run_states(parent.id)] == [S.PENDING, S.RUNNING, S.COMPLETED]
    listed = await orchestrator.read_flow_runs(FlowRunFilter(sort=FlowRunSort.NAME_ASC))
    assert [r.id for r in listed] == [parent.id]
    assert await orchestrator.count_flow_runs(FlowRunFilter(state_type=[S.COMPLETED])) == 1
    (stored_task_run,) = await orchestrator.read_task_runs(TaskRunFilter(flow_run_id=[parent.id]))
    assert stored_task_run.state_type is S.COMPLETED
    assert [s.type for s in await orchestrator.read_task_run_states(task_run.id)] == [S.PENDING, S.COMPLETED]
    assert [line.message for line in await orchestrator.read_logs(LogFilter())] == ["héllo 🌊"]
    assert [f.name for f in await orchestrator.read_flows()] == ["etl"]
    assert (await orchestrator.health())["status"] == "ok"


async def test_unknown_ids_raise_object_not_found_with_the_servers_message(orchestrator: HTTPOrchestrator) -> None:
    unknown = uuid.uuid4()
    with pytest.raises(ObjectNotFound, match=f"no flow run with id {unknown}"):
        await orchestrator.read_flow_run(unknown)


async def test_refused_content_raises_with_the_servers_message(orchestrator: HTTPOrchestrator, make: Factory) -> None:
    with pytest.raises(HeadwaterHTTPError) as raised:
        await orchestrator.create_flow_run(make.flow_run("etl", make.state(S.FAILED)))
    assert raised.value.status_code == 409
    assert "FAILED" in raised.value.detail


class Flaky(httpx.AsyncBaseTransport):
    """Fails the first `failures` requests (a connection error, or the given status), then answers 200."""

    def __init__(self, failures: int, status: int | None = None) -> None:
        self.failures = failures
        self.status = status
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if len(self.requests) <= self.failures:
            if self.status is None:
                raise httpx.ConnectError("connection refused", request=request)
            return httpx.Response(self.status, json={"detail": "busy"})
        return httpx.Response(200, json=7)


@pytest.mark.parametrize("status", [None, 502, 503, 504])
async def test_reads_are_retried_on_transient_failures(status: int | None) -> None:
    transport = Flaky(failures=2, status=status)
    client = HTTPOrchestrator(API_URL, transport=transport, retries=3)
    try:
        assert await client.count_flow_runs(FlowRunFilter()) == 7
    finally:
        await client.aclose()
    assert transport.requests == ["POST /api/flow_runs/count"] * 3


async def test_reads_give_up_after_their_retries_saying_where_they_went() -> None:
    transport = Flaky(failures=100)
    client = HTTPOrchestrator(API_URL, transport=transport, retries=1)
    try:
        with pytest.raises(HeadwaterHTTPError, match=re.escape(f"Cannot reach the Headwater API at {API_URL}")):
            await client.count_flow_runs(FlowRunFilter())
    finally:
        await client.aclose()
    assert len(transport.requests) == 2


async def test_record_writes_fail_fast_for_the_recorder_to_retry() -> None:
    transport = Flaky(failures=1, status=503)
    client = HTTPOrchestrator(API_URL, transport=transport, retries=3)
    try:
        with pytest.raises(HeadwaterHTTPError) as raised:
            await client.record(RecordBatch())
    finally:
        await client.aclose()
    assert raised.value.status_code == 503
    assert transport.requests == ["POST /api/records/"]


async def test_client_errors_are_not_retried() -> None:
    transport = Flaky(failures=5, status=422)
    client = HTTPOrchestrator(API_URL, transport=transport, retries=3)
    try:
        with pytest.raises(HeadwaterHTTPError, match="422: busy"):
            await client.count_flow_runs(FlowRunFilter())
    finally:
        await client.aclose()
    assert len(transport.requests) == 1
