"""Run timeouts.

How far a timed-out run is interrupted:
- **async** flows and tasks are cancelled at their next `await`.
- **sync** code on the main thread gets a `SIGALRM`: the timeout is raised in it even inside a blocking
  call such as `time.sleep` or a socket read (the call is interrupted and not resumed).
- **sync** code on another thread (a submitted task, a flow run by a worker thread) runs in a helper
  thread: the run is marked failed on time and its caller goes on; the abandoned function gets the
  timeout exception raised into it the next time it executes Python bytecode. A function stuck in a C
  call that never returns cannot be stopped from Python; it runs on, detached, until it returns.
"""

from __future__ import annotations

import asyncio
import contextvars
import ctypes
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class RunTimeout(TimeoutError):
    """A run exceeded its `timeout_seconds`. `token` tells which run's deadline fired."""

    def __init__(self, message: str, token: object = None) -> None:
        super().__init__(message)
        self.token = token


def _message(label: str, seconds: float) -> str:
    return f"{label} exceeded its timeout of {seconds:g} seconds."


def in_main_thread() -> bool:
    """Whether signals can interrupt the calling thread."""
    return threading.current_thread() is threading.main_thread()


@contextmanager
def main_thread_deadline(seconds: float, label: str, token: object) -> Iterator[None]:
    """Raise `RunTimeout(token)` in the main thread after `seconds`, via SIGALRM (nesting-aware)."""
    outer_remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    if outer_remaining and outer_remaining <= seconds:
        yield  # an enclosing deadline fires first and interrupts this block too
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise RunTimeout(_message(label, seconds), token)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    started = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_remaining:
            left = outer_remaining - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6))


def call_in_thread_with_timeout(
    fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any], seconds: float, label: str,
    token: object,
) -> T:
    """Call `fn` in a helper thread; raise `RunTimeout` after `seconds` even if it has not returned."""
    box: list[Any] = []
    context = contextvars.copy_context()

    def target() -> None:
        try:
            box.append((True, context.run(fn, *args, **kwargs)))
        except BaseException as exc:
            box.append((False, exc))

    thread = threading.Thread(target=target, name=f"headwater-timeout-{label}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        _raise_in_thread(thread, RunTimeout)
        raise RunTimeout(_message(label, seconds), token)
    ok, value = box[0]
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


def _raise_in_thread(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type))


async def await_with_timeout(awaitable: Awaitable[T], seconds: float, label: str, token: object) -> T:
    """Await with a deadline; raise `RunTimeout` when it passes."""
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError as exc:
        if isinstance(exc, RunTimeout):
            raise
        raise RunTimeout(_message(label, seconds), token) from None
