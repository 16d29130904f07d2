"""The composition root of the SDK: the one place that decides which orchestrator the engine, the
CLI and the worker talk to. With `HEADWATER_API_URL` set it is the HTTP client; without, the embedded
store (the server's services, in this process, over SQLite by default)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from headwater.engine.journal import Journal
from headwater.engine.portal import get_portal
from headwater.settings import Settings, get_settings

if TYPE_CHECKING:
    from headwater.client.base import Orchestrator
    from headwater.engine.recorder import Recorder

T = TypeVar("T")


async def connect(settings: Settings | None = None) -> Orchestrator:
    """A new orchestrator connection for the settings in force (call it on the loop that will use it)."""
    settings = settings or get_settings()
    if settings.api_url:
        from headwater.client.http import HTTPOrchestrator

        return HTTPOrchestrator.from_settings(settings)
    from headwater._embedded import EmbeddedOrchestrator

    return await EmbeddedOrchestrator.open(settings.resolved_database_url)


def destination(settings: Settings | None = None) -> str:
    """Where records go: the API URL, or the database URL."""
    settings = settings or get_settings()
    return settings.api_url or settings.resolved_database_url


def create_recorder() -> Recorder:
    """The recorder for this process, writing to the orchestrator the settings name."""
    from headwater.engine.recorder import Recorder

    settings = get_settings()
    portal = get_portal()
    return Recorder(
        portal,
        lambda: connect(settings),
        Journal(settings.journal_path, destination(settings)),
        flush_interval=settings.record_flush_interval_seconds,
        batch_size=settings.record_batch_size,
        buffer_max_items=settings.record_buffer_max_items,
        heartbeat_interval=settings.heartbeat_interval_seconds,
        flush_timeout=settings.record_flush_timeout_seconds,
    )


_shared: dict[str, Orchestrator] = {}


async def shared_orchestrator() -> Orchestrator:
    """One orchestrator per destination for this process's reads (CLI, results of runs, the worker).

    Call on the portal loop (it owns the connections).
    """
    key = destination()
    if key not in _shared:
        _shared[key] = await connect()
    return _shared[key]


def call(operation: Callable[[Orchestrator], Awaitable[T]], timeout: float | None = None) -> T:
    """Run `operation(orchestrator)` on the portal loop and return its result (for sync callers).

    Example: `call(lambda o: o.read_flow_run(run_id))`.
    """

    async def run() -> T:
        return await operation(await shared_orchestrator())

    return get_portal().call(run(), timeout)


async def acall(operation: Callable[[Orchestrator], Awaitable[T]]) -> T:
    """`call` for async callers: runs on the portal loop without blocking the caller's loop."""

    async def run() -> T:
        return await operation(await shared_orchestrator())

    return await get_portal().acall(run())


async def close_shared() -> None:
    """Close the shared orchestrators (on the portal loop)."""
    for orchestrator in list(_shared.values()):
        await orchestrator.aclose()
    _shared.clear()
