"""Helpers for the API tests: JSON bodies from schema objects, and small checked calls."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

ORIGIN = "http://headwater.test"
API_URL = f"{ORIGIN}/api"

Serve = Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]
"""`serve(**server_settings)`: an async context manager giving a client of a fresh app (see conftest)."""


@contextlib.asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.ASGITransport]:
    """The app with its lifespan entered (database open, loops started), as an httpx transport."""
    async with app.router.lifespan_context(app):
        yield httpx.ASGITransport(app=app)


def body(model: BaseModel) -> Any:
    """A schema object as the JSON a client sends."""
    return model.model_dump(mode="json")


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON of a response that must have this status (the body is shown when it has not)."""
    assert response.status_code == status, f"{response.status_code} != {status}: {response.text}"
    return response.json() if response.content else None


async def create_run(client: httpx.AsyncClient, model: BaseModel) -> dict[str, Any]:
    """POST a `FlowRunCreate`; the created run."""
    run: dict[str, Any] = ok(await client.post("/api/flow_runs/", json=body(model)), 201)
    return run


async def propose(client: httpx.AsyncClient, run_id: UUID | str, state: BaseModel, force: bool = False) -> Any:
    """POST a proposed state; the orchestration result."""
    response = await client.post(f"/api/flow_runs/{run_id}/set_state", json={"state": body(state), "force": force})
    return ok(response)


async def history(client: httpx.AsyncClient, kind: str, run_id: UUID | str) -> list[str]:
    """The state types of a flow run's or task run's history, oldest first (`kind`: flow_run or task_run)."""
    states = ok(await client.get(f"/api/{kind}_states/", params={f"{kind}_id": str(run_id)}))
    return [state["type"] for state in states]
