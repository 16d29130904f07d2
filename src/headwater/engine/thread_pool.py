"""A pool of daemon threads for submitted tasks.

`concurrent.futures.ThreadPoolExecutor` joins its threads when the interpreter exits, so a process
whose flow run was interrupted (Ctrl-C, SIGTERM) would hang until every running task returned. Here
the threads are daemons: once the run is recorded CRASHED and flushed, the process can end.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_Item = tuple["concurrent.futures.Future[Any]", Callable[[], Any]] | None


class DaemonThreadPool:
    """Runs callables on up to `max_workers` daemon threads, started as work arrives."""

    def __init__(self, max_workers: int, name_prefix: str) -> None:
        self.max_workers = max_workers
        self._name_prefix = name_prefix
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._shut_down = False

    def submit(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Run `fn()` on a pool thread; its future holds the result or the exception."""
        if self._shut_down:
            raise RuntimeError("This task runner has shut down; submit inside the flow run that owns it.")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((future, fn))
        if not self._idle.acquire(blocking=False):
            with self._lock:
                if len(self._threads) < self.max_workers:
                    thread = threading.Thread(
                        target=self._work, name=f"{self._name_prefix}-{len(self._threads)}", daemon=True
                    )
                    self._threads.append(thread)
                    thread.start()
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:  # the future carries it to whoever waits
                    future.set_exception(exc)
            del item, future, fn
            self._idle.release()

    def shutdown(self, wait: bool = True) -> None:
        """Let the threads end once the queued work is done; with `wait`, wait for that."""
        self._shut_down = True
        with self._lock:
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()
