"""How a worker is stopped: by SIGINT or SIGTERM when it runs in the foreground, and by giving up on
whatever it awaits (a long-poll, a pause) as soon as a stop is asked for."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def run_until_signalled(main: Coroutine[Any, Any, None], on_signal: Callable[[signal.Signals], None]) -> None:
    """Await `main` with `on_signal(signum)` handling SIGINT and SIGTERM on this loop (where the platform
    allows), instead of Python's default (KeyboardInterrupt, or death)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
    try:
        await main
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def unless_set(awaitable: Awaitable[T], event: asyncio.Event) -> T | None:
    """The awaitable's result, or `None` when `event` is set first (the awaitable is then cancelled)."""
    task = asyncio.ensure_future(awaitable)
    stop = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return None
