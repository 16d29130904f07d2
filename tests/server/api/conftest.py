"""Fixtures for the HTTP API, served in this process through `httpx.ASGITransport` (no network, no
port), with the app's lifespan (database, loops) run around each test.

- `serve(**settings)`: an async context manager giving an `httpx.AsyncClient` on a fresh app over the
  test's store (`db_url`, SQLite and PostgreSQL alike) with `ServerSettings` overrides, e.g.
  `async with serve(auth_string="s3cret", headers={...}) as client:`.
- `client`: such a client on the default app (no auth, default limits, no background loops).
- `orchestrator`: the SDK's `HTTPOrchestrator` over the same kind of app.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from api_support import API_URL, ORIGIN, Serve, running

from headwater.client.http import HTTPOrchestrator
from headwater.server.api.app import create_app
from headwater.server.settings import ServerSettings
from headwater.server.storage.database import Database


@pytest.fixture
def serve(db_url: str, db: Database) -> Serve:
    """Apps over the test's store (the `db` fixture empties it first), with settings overrides."""

    @contextlib.asynccontextmanager
    async def open_client(
        *, headers: dict[str, str] | None = None, run_loops: bool = False, **settings: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(ServerSettings(database_url=db_url, **settings), run_loops=run_loops)
        async with (
            running(app) as transport,
            httpx.AsyncClient(transport=transport, base_url=ORIGIN, headers=headers) as client,
        ):
            yield client

    return open_client


def _enter(aio: asyncio.Runner, manager: contextlib.AbstractAsyncContextManager[Any]) -> Iterator[Any]:
    """Enter an async context manager on the test's loop for the length of a (sync) fixture."""
    value = aio.run(manager.__aenter__())
    try:
        yield value
    finally:
        aio.run(manager.__aexit__(None, None, None))


@pytest.fixture
def client(serve: Serve, aio: asyncio.Runner) -> Iterator[httpx.AsyncClient]:
    """A client of the default app over the test's store."""
    yield from _enter(aio, serve())


@pytest.fixture
def orchestrator(db_url: str, db: Database, aio: asyncio.Runner) -> Iterator[HTTPOrchestrator]:
    """The SDK's HTTP client, talking to an app over the test's store through an in-process transport."""

    @contextlib.asynccontextmanager
    async def open_orchestrator() -> AsyncIterator[HTTPOrchestrator]:
        app = create_app(ServerSettings(database_url=db_url), run_loops=False)
        async with running(app) as transport:
            client = HTTPOrchestrator(API_URL, transport=transport)
            try:
                yield client
            finally:
                await client.aclose()

    yield from _enter(aio, open_orchestrator())
