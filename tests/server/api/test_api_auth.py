"""With an auth string configured, every API call must carry it as `Authorization: Bearer <secret>`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from api_support import API_URL, Serve, ok, running

from headwater.client.http import HTTPOrchestrator
from headwater.exceptions import HeadwaterHTTPError
from headwater.schemas.filters import FlowRunFilter
from headwater.server.api.app import create_app
from headwater.server.settings import ServerSettings

SECRET = "s3cret/+=-token_0123456789"
GOOD = {"Authorization": f"Bearer {SECRET}"}


def _routes(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (method, concrete path) of the OpenAPI schema, path parameters filled with a random id."""
    routes = []
    for path, methods in schema["paths"].items():
        concrete = path
        for name in ("flow_id", "flow_run_id", "task_run_id"):
            concrete = concrete.replace("{" + name + "}", str(uuid.uuid4()))
        routes += [(method.upper(), concrete) for method in methods]
    return routes


async def test_every_route_needs_the_token(serve: Serve) -> None:
    async with serve(auth_string="plain-secret") as client:
        schema = ok(await client.get("/api/openapi.json", headers={"Authorization": "Bearer plain-secret"}))
        routes = [*_routes(schema), ("GET", "/api/docs"), ("GET", "/api/openapi.json"), ("GET", "/api/nowhere")]
        assert len(routes) >= 19
        for method, path in routes:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic plain-secret"}):
                response = await client.request(method, path, headers=headers, json={})
                assert response.status_code == 401, (method, path, headers, response.text)
                assert response.headers["WWW-Authenticate"] == "Bearer"
                assert "HEADWATER_API_KEY" in response.json()["detail"]


async def test_with_the_token_calls_work(serve: Serve) -> None:
    async with serve(auth_string="plain-secret", headers={"Authorization": "Bearer plain-secret"}) as client:
        assert ok(await client.get("/api/health"))["status"] == "ok"
        assert ok(await client.post("/api/flow_runs/count")) == 0
        assert (await client.get(f"/api/flow_runs/{uuid.uuid4()}")).status_code == 404  # past auth


async def test_the_token_is_checked_before_the_body_size(serve: Serve) -> None:
    async with serve(auth_string="plain-secret", max_body_bytes=10) as client:
        response = await client.post("/api/logs/", content=b"x" * 100)
        assert response.status_code == 401


@pytest.mark.parametrize("key", [None, "wrong"])
async def test_the_sdk_client_without_the_right_key_is_told_why(db_url: str, key: str | None) -> None:
    app = create_app(ServerSettings(database_url=db_url, auth_string="plain-secret"), run_loops=False)
    async with running(app) as transport:
        client = HTTPOrchestrator(API_URL, key, transport=transport)
        try:
            with pytest.raises(HeadwaterHTTPError) as raised:
                await client.count_flow_runs(FlowRunFilter())
        finally:
            await client.aclose()
    assert raised.value.status_code == 401
    assert "HEADWATER_API_KEY" in raised.value.detail


async def test_the_sdk_client_sends_its_key(db_url: str) -> None:
    app = create_app(ServerSettings(database_url=db_url, auth_string=SECRET), run_loops=False)
    async with running(app) as transport:
        client = HTTPOrchestrator(API_URL, SECRET, transport=transport)
        try:
            assert (await client.health())["status"] == "ok"
            assert await client.count_flow_runs(FlowRunFilter()) >= 0
        finally:
            await client.aclose()
