"""Request-scoped dependencies: the database the app serves; long-polls that end when their client goes away."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request

from headwater.server.storage.database import Database

T = TypeVar("T")


def get_db(request: Request) -> Database:
    """The app's open database."""
    db: Database = request.app.state.db
    return db


async def unless_disconnected(request: Request, work: Awaitable[T], on_gone: Callable[[], Awaitable[T]]) -> T:
    """The result of a long-poll `work`, or of `on_gone()` as soon as the client disconnects (the work is
    then cancelled): a poll nobody waits for any more must not hold a stopping server for its whole wait."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        done, _ = await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # this request itself was cancelled
        task.cancel()
        watcher.cancel()
        raise
    watcher.cancel()
    if task in done:
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return await on_gone()


async def _disconnected(request: Request) -> None:
    """Returns when the client has gone away (the request's body, if any, was read before)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
