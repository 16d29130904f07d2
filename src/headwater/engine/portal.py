"""The SDK's background loop: one daemon thread running asyncio, where all of the SDK's I/O happens.

Sync code hands it coroutines with `call` (and waits) or `submit` (and goes on); async code awaits
`acall`. After a fork the child gets a fresh portal on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Portal:
    """An event loop in a daemon thread."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="headwater-portal", daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The portal's event loop."""
        assert self._loop is not None
        return self._loop

    @property
    def thread(self) -> threading.Thread:
        """The thread the loop runs in."""
        return self._thread

    def in_portal(self) -> bool:
        """Whether the caller runs on the portal's own thread (where blocking on it would deadlock)."""
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule a coroutine on the loop; returns a future for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the loop and wait for its result."""
        if self.in_portal():
            coro.close()
            raise RuntimeError("Portal.call() from the portal's own thread would deadlock; await instead.")
        return self.submit(coro).result(timeout)

    async def acall(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the loop from another event loop, without blocking that loop."""
        if self.in_portal():
            return await coro
        return await asyncio.wrap_future(self.submit(coro))

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run a plain callback on the loop soon (thread-safe, does not wait)."""
        self.loop.call_soon_threadsafe(fn, *args)


_portal: Portal | None = None
_lock = threading.Lock()


def get_portal() -> Portal:
    """The process's portal, started on first use."""
    global _portal
    if _portal is None:
        with _lock:
            if _portal is None:
                _portal = Portal()
    return _portal


def _forget_after_fork() -> None:
    global _portal, _lock
    _portal = None
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
