"""Health, version, and the OpenAPI schema describing every route."""

from __future__ import annotations

import httpx

from headwater._version import __version__
from headwater.server.storage.database import Database


async def test_health_answers_with_the_version_and_the_database(client: httpx.AsyncClient, db: Database) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__, "database": db.dialect_name}


async def test_version(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/version")
    assert (response.status_code, response.json()) == (200, __version__)


async def test_openapi_schema_lists_the_routes(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Headwater"
    routes = {(path, method.upper()) for path, methods in schema["paths"].items() for method in methods}
    expected = {
        ("/api/health", "GET"),
        ("/api/version", "GET"),
        ("/api/flows/filter", "POST"),
        ("/api/flows/{flow_id}", "GET"),
        ("/api/flow_runs/", "POST"),
        ("/api/flow_runs/{flow_run_id}", "GET"),
        ("/api/flow_runs/{flow_run_id}", "DELETE"),
        ("/api/flow_runs/filter", "POST"),
        ("/api/flow_runs/count", "POST"),
        ("/api/flow_runs/{flow_run_id}/set_state", "POST"),
        ("/api/flow_run_states/", "GET"),
        ("/api/task_runs/{task_run_id}", "GET"),
        ("/api/task_runs/filter", "POST"),
        ("/api/task_run_states/", "GET"),
        ("/api/logs/", "POST"),
        ("/api/logs/filter", "POST"),
        ("/api/records/", "POST"),
    }
    assert expected <= routes, expected - routes
    # The request schemas are described, so clients can be generated from the schema.
    assert {"FlowRunCreate", "FlowRunFilter", "RecordBatch", "StateCreate"} <= set(schema["components"]["schemas"])


async def test_interactive_docs_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/docs")
    assert response.status_code == 200
    assert "/api/openapi.json" in response.text


async def test_unknown_path_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/no_such_thing")).status_code == 404
