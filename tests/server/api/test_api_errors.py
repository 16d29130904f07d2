"""What the API answers to bad requests: 4xx with a message naming what was wrong."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import pytest
from api_support import Serve, body, ok

from headwater.core.states import StateType
from headwater.schemas.actions import LogCreate, RecordBatch

if TYPE_CHECKING:
    from conftest import Factory

S = StateType
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize("path", ["/api/flow_runs/", "/api/records/", "/api/flow_runs/filter", "/api/logs/"])
async def test_malformed_json_is_422_saying_so(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, content=b'{"name": "etl", ', headers=JSON)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("The request body is not valid JSON"), response.text


async def test_a_field_of_the_wrong_type_is_named(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/flow_runs/", json={"name": 5, "flow_name": "etl"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("Invalid request:") and "name:" in detail, detail
    assert [error["loc"] for error in response.json()["errors"]] == [["body", "name"]]


async def test_a_missing_field_is_named(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/flow_runs/", json={"name": "run"})
    assert response.status_code == 422
    assert "flow_name: Field required" in response.json()["detail"], response.text


async def test_an_unknown_field_is_refused_not_ignored(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/flow_runs/filter", json={"flow_nmae": ["etl"]})
    assert response.status_code == 422
    assert "flow_nmae" in response.json()["detail"], response.text


async def test_nested_fields_are_named_with_their_path(client: httpx.AsyncClient, make: Factory) -> None:
    run = make.flow_run("etl", make.state(S.PENDING))
    ok(await client.post("/api/flow_runs/", json=body(run)), 201)
    response = await client.post(f"/api/flow_runs/{run.id}/set_state", json={"state": {"type": "DONE"}})
    assert response.status_code == 422
    assert "state.type:" in response.json()["detail"], response.text
    batch = body(RecordBatch(task_runs=[make.task_run(run.id)]))
    batch["task_runs"][0]["dynamic_key"] = ["not", "a", "string"]
    response = await client.post("/api/records/", json=batch)
    assert response.status_code == 422
    assert "task_runs.0.dynamic_key:" in response.json()["detail"], response.text


async def test_out_of_range_pagination_is_named(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/flow_runs/filter", json={"limit": 0})
    assert response.status_code == 422 and "limit:" in response.json()["detail"], response.text
    response = await client.post("/api/logs/filter", json={"offset": -1})
    assert response.status_code == 422 and "offset:" in response.json()["detail"], response.text


async def test_a_malformed_id_in_the_path_or_query_is_named(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/flow_runs/not-a-uuid")
    assert response.status_code == 422 and "flow_run_id" in response.json()["detail"], response.text
    response = await client.get("/api/task_run_states/", params={"task_run_id": "42"})
    assert response.status_code == 422 and "task_run_id" in response.json()["detail"], response.text
    response = await client.get("/api/flow_run_states/")
    assert response.status_code == 422 and "flow_run_id" in response.json()["detail"], response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/flow_runs/{id}"),
        ("DELETE", "/api/flow_runs/{id}"),
        ("GET", "/api/task_runs/{id}"),
        ("GET", "/api/flows/{id}"),
    ],
)
async def test_unknown_ids_are_404_naming_the_id(client: httpx.AsyncClient, method: str, path: str) -> None:
    unknown = uuid.uuid4()
    response = await client.request(method, path.format(id=unknown))
    assert response.status_code == 404
    assert str(unknown) in response.json()["detail"], response.text


async def test_proposing_a_state_to_an_unknown_run_is_404(client: httpx.AsyncClient, make: Factory) -> None:
    unknown = uuid.uuid4()
    response = await client.post(f"/api/flow_runs/{unknown}/set_state", json={"state": body(make.state(S.RUNNING))})
    assert response.status_code == 404
    assert response.json()["detail"] == f"no flow run with id {unknown}"


async def test_creating_a_run_in_a_final_state_is_409(client: httpx.AsyncClient, make: Factory) -> None:
    response = await client.post("/api/flow_runs/", json=body(make.flow_run("etl", make.state(S.COMPLETED))))
    assert response.status_code == 409
    assert "COMPLETED" in response.json()["detail"], response.text


def _logs_payload(make: Factory, count: int) -> list[dict[str, object]]:
    return [body(LogCreate(name="l", level=20, message="x" * 100, timestamp=make.at(i))) for i in range(count)]


async def test_an_oversized_body_is_413_naming_the_limit(serve: Serve, make: Factory) -> None:
    async with serve(max_body_bytes=2048) as client:
        small = await client.post("/api/logs/", json=_logs_payload(make, 2))
        assert small.status_code == 201, small.text
        response = await client.post("/api/logs/", json=_logs_payload(make, 50))
        assert response.status_code == 413
        assert "2048 bytes" in response.json()["detail"], response.text
        assert ok(await client.post("/api/logs/filter")) != []  # the server still serves


async def test_an_oversized_streamed_body_without_length_is_413(serve: Serve, make: Factory) -> None:
    """A chunked body declares no length; the limit is enforced while it is read."""
    chunk = httpx.Request("POST", "/", json=_logs_payload(make, 50)).read()

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(chunk), 512):
            yield chunk[start : start + 512]

    async with serve(max_body_bytes=2048) as client:
        response = await client.post("/api/logs/", content=stream(), headers=JSON)
        assert "content-length" not in response.request.headers
        assert response.status_code == 413, response.text
        assert "2048 bytes" in response.json()["detail"], response.text
        assert ok(await client.post("/api/logs/filter")) == []  # nothing of it was recorded
