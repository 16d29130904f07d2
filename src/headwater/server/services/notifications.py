"""In-process wake-ups: a service that changed something `notify`s a topic after its commit, and callers
long-polling for that change (a worker waiting for a due run, a caller waiting for a run to finish) wake
at once instead of at their next poll.

Only this process hears a notification. Writers in other processes (the embedded SDK next to a server,
several server replicas) are found by the waiters' periodic re-query, so a notification is a shortcut,
never the only way a change is seen. Waiters may sit on any event loop and any thread: a notification
reaches each through its own loop.

    async with listen(flow_run_topic(run_id)) as listener:
        while not done():
            await listener.wait(0.25)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from uuid import UUID


def flow_run_topic(flow_run_id: UUID) -> str:
    """Notified when a flow run's state changes."""
    return f"flow-run/{flow_run_id}"


def work_pool_topic(work_pool_name: str) -> str:
    """Notified when a run is created in one of a work pool's queues."""
    return f"work-pool/{work_pool_name}"


def work_queue_topic(work_queue_id: UUID) -> str:
    """Notified when a run of a work queue changes state (it may have freed a concurrency slot)."""
    return f"work-queue/{work_queue_id}"


class Listener:
    """Hears the notifications of its topics from the moment it is registered, so nothing notified
    between a waiter's check and its wait is missed."""

    def __init__(self, topics: set[str]) -> None:
        self.topics = topics
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def _wake(self) -> None:
        # Called from whichever thread notified: the event belongs to the listener's loop.
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._event.set()
            return
        with suppress(RuntimeError):  # the listener's loop closed meanwhile: nobody to wake
            self._loop.call_soon_threadsafe(self._event.set)

    def add(self, *topics: str) -> None:
        """Listen to more topics."""
        _registry.add(self, topics)

    async def wait(self, timeout: float) -> bool:
        """Wait for a notification (or one that came since the last wait) at most `timeout` seconds;
        returns whether one came."""
        try:
            await asyncio.wait_for(self._event.wait(), max(timeout, 0))
        except TimeoutError:
            return False
        self._event.clear()
        return True


class _Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[str, set[Listener]] = {}

    def add(self, listener: Listener, topics: tuple[str, ...] | set[str]) -> None:
        with self._lock:
            for topic in topics:
                listener.topics.add(topic)
                self._listeners.setdefault(topic, set()).add(listener)

    def remove(self, listener: Listener) -> None:
        with self._lock:
            for topic in listener.topics:
                listeners = self._listeners.get(topic)
                if listeners is not None:
                    listeners.discard(listener)
                    if not listeners:
                        del self._listeners[topic]

    def notify(self, topics: tuple[str, ...]) -> None:
        with self._lock:
            woken = {listener for topic in topics for listener in self._listeners.get(topic, ())}
        for listener in woken:
            listener._wake()


_registry = _Registry()


def notify(*topics: str) -> None:
    """Wake everyone listening to any of `topics` in this process. Call it after the change committed,
    so whoever wakes finds it."""
    if topics:
        _registry.notify(topics)


@asynccontextmanager
async def listen(*topics: str) -> AsyncIterator[Listener]:
    """A `Listener` to `topics` for the duration of the block."""
    listener = Listener(set())
    _registry.add(listener, topics)
    try:
        yield listener
    finally:
        _registry.remove(listener)


async def wait(topic: str, timeout: float) -> bool:
    """Wait up to `timeout` seconds for a notification of `topic`; returns whether one came."""
    async with listen(topic) as listener:
        return await listener.wait(timeout)
