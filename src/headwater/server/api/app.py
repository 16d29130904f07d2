"""The server application: the API under `/api`, the database, the background loops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from headwater._version import __version__
from headwater.server.api import routes_admin, routes_deployments, routes_records, routes_runs, routes_work_pools
from headwater.server.api.auth import RequireAuth
from headwater.server.api.errors import BodySizeLimit, install_error_handlers
from headwater.server.loops.runner import LoopRunner
from headwater.server.settings import ServerSettings
from headwater.server.storage.database import Database

MAX_BODY_BYTES = ServerSettings.max_body_bytes
"""The default request-size limit (`ServerSettings.max_body_bytes`)."""


def create_app(settings: ServerSettings, *, run_loops: bool = True) -> FastAPI:
    """The API app over the database the settings name.

    Args:
        settings: database URL, auth string and loop intervals.
        run_loops: start the background loops (crash detection …) with the app.
    """
    db = Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await db.open()
        loops = LoopRunner.for_server(db, settings) if run_loops else None
        if loops is not None:
            loops.start()
        try:
            yield
        finally:
            if loops is not None:
                await loops.stop()
            await db.close()

    app = FastAPI(
        title="Headwater",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.db = db
    api = APIRouter(prefix="/api")
    api.include_router(routes_admin.router)
    api.include_router(routes_runs.router)
    api.include_router(routes_records.router)
    api.include_router(routes_deployments.router)
    api.include_router(routes_work_pools.router)
    app.include_router(api)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.auth_string:
        app.add_middleware(RequireAuth, secret=settings.auth_string)
    return app
