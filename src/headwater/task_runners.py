"""Task runners: where submitted tasks run.

`ThreadPoolTaskRunner` (the default) runs them in threads of this process; `ProcessPoolTaskRunner` in
worker processes. Both dispatch a task only once the futures it depends on are done, so no worker ever
sits blocked on an upstream run. A runner for Dask or Ray implements `TaskRunner.submit_run`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from headwater.engine.thread_pool import DaemonThreadPool
from headwater.futures import HeadwaterFuture, HeadwaterFutureList
from headwater.states import State
from headwater.utilities.ids import new_id

if TYPE_CHECKING:
    from headwater.engine.context import FlowRunContext
    from headwater.tasks import Task


def upstream_futures(args: tuple[Any, ...], kwargs: dict[str, Any], wait_for: Any) -> list[HeadwaterFuture[Any]]:
    """The futures a call depends on: in its arguments (also inside lists, tuples, sets, dicts) and
    `wait_for`."""
    found: list[HeadwaterFuture[Any]] = []

    def visit(value: Any) -> None:
        if isinstance(value, HeadwaterFuture):
            found.append(value)
        elif type(value) in (list, tuple, set) or isinstance(value, HeadwaterFutureList):
            for v in value:
                visit(v)
        elif type(value) is dict:
            for v in value.values():
                visit(v)

    for a in args:
        visit(a)
    for v in kwargs.values():
        visit(v)
    for w in wait_for or ():
        visit(w)
    return found


class TaskRunner(ABC):
    """Runs submitted tasks. Used as a context manager by the flow run that owns it."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown(wait=True)

    @abstractmethod
    def duplicate(self) -> TaskRunner:
        """A fresh runner with the same settings (each flow run gets its own)."""

    @abstractmethod
    def submit_run(self, run: Callable[[], State[Any]]) -> concurrent.futures.Future[State[Any]]:
        """Start `run` (which runs one task run and returns its final state) somewhere."""

    def shutdown(self, wait: bool = True) -> None:  # noqa: B027 - optional for runners holding no workers
        """Release the runner's workers, waiting for submitted runs when `wait`."""

    def submit(
        self,
        task: Task[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        wait_for: Any,
        flow_ctx: FlowRunContext,
    ) -> HeadwaterFuture[Any]:
        """Submit one task run; returns its future at once."""
        task_run_id = new_id()
        run = self.make_run(task, args, kwargs, wait_for, flow_ctx, task_run_id)
        pending = [f for f in upstream_futures(args, kwargs, wait_for) if not f.done()]
        if not pending:
            return HeadwaterFuture(task_run_id, self.submit_run(run))
        outer: concurrent.futures.Future[State[Any]] = concurrent.futures.Future()
        remaining = [len(pending)]
        lock = threading.Lock()

        def on_upstream_done(_: HeadwaterFuture[Any]) -> None:
            with lock:
                remaining[0] -= 1
                if remaining[0]:
                    return
            try:
                inner = self.submit_run(run)
            except BaseException as exc:  # the runner was shut down meanwhile (an interrupted flow)
                outer.set_exception(exc)
                return
            inner.add_done_callback(lambda f: _copy_outcome(f, outer))

        self._deferred.add(outer)
        outer.add_done_callback(self._deferred.discard)
        for f in pending:
            f.add_done_callback(on_upstream_done)
        return HeadwaterFuture(task_run_id, outer)

    @property
    def _deferred(self) -> set[concurrent.futures.Future[State[Any]]]:
        """Runs waiting for their upstream runs before they are dispatched."""
        deferred: set[concurrent.futures.Future[State[Any]]] | None = self.__dict__.get("_deferred_runs")
        if deferred is None:
            deferred = self.__dict__.setdefault("_deferred_runs", set())
        return deferred

    def wait_for_deferred(self) -> None:
        """Wait until every run waiting on upstream runs has been dispatched and has finished, so that
        shutting the workers down cannot strand one."""
        while self._deferred:
            concurrent.futures.wait(list(self._deferred))

    def make_run(
        self,
        task: Task[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        wait_for: Any,
        flow_ctx: FlowRunContext,
        task_run_id: UUID,
    ) -> Callable[[], State[Any]]:
        """A callable that runs the task run in the submitting context and returns its final state."""
        from headwater.engine.task_engine import run_task_async, run_task_sync

        context = contextvars.copy_context()
        if task.is_async:
            def run() -> State[Any]:
                coro = run_task_async(task, args, kwargs, flow_ctx, "state", wait_for, task_run_id)
                return context.run(asyncio.run, coro)
        else:
            def run() -> State[Any]:
                return context.run(
                    run_task_sync, task, args, kwargs, flow_ctx, "state", wait_for, task_run_id
                )
        return run


def _copy_outcome(src: concurrent.futures.Future[State[Any]], dst: concurrent.futures.Future[State[Any]]) -> None:
    exc = src.exception()
    if exc is not None:
        dst.set_exception(exc)
    else:
        dst.set_result(src.result())


class ThreadPoolTaskRunner(TaskRunner):
    """Runs submitted tasks in a pool of threads (the default).

    Args:
        max_workers: most tasks running at once (default 64; they mostly wait on I/O).
    """

    def __init__(self, max_workers: int | None = None) -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}.")
        self.max_workers = max_workers or 64
        self._executor: DaemonThreadPool | None = None
        self._lock = threading.Lock()

    def duplicate(self) -> ThreadPoolTaskRunner:
        return type(self)(self.max_workers)

    def __reduce__(self) -> tuple[Any, ...]:
        # A flow travels to worker processes with its runner: send the settings, not the pool.
        return (type(self), (self.max_workers,))

    def submit_run(self, run: Callable[[], State[Any]]) -> concurrent.futures.Future[State[Any]]:
        if self._executor is None:
            with self._lock:
                if self._executor is None:
                    self._executor = DaemonThreadPool(self.max_workers, "headwater-task")
        return self._executor.submit(run)

    def shutdown(self, wait: bool = True) -> None:
        if wait:
            self.wait_for_deferred()
        if self._executor is not None:
            self._executor.shutdown(wait=wait)
            self._executor = None


class ProcessPoolTaskRunner(TaskRunner):
    """Runs submitted tasks in worker processes, for CPU-bound work that the GIL would serialise.

    Tasks, their arguments and results travel with cloudpickle. Each worker records its task runs and
    their logs itself, to the same store or server as this process.

    Args:
        max_workers: most worker processes (default: the number of CPUs).
    """

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def duplicate(self) -> ProcessPoolTaskRunner:
        return type(self)(self.max_workers)

    def __reduce__(self) -> tuple[Any, ...]:
        # A flow travels to worker processes with its runner: send the settings, not the pool.
        return (type(self), (self.max_workers,))

    def make_run(
        self,
        task: Task[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        wait_for: Any,
        flow_ctx: FlowRunContext,
        task_run_id: UUID,
    ) -> Callable[[], State[Any]]:
        from headwater.engine.subprocess_tasks import pack_task_run

        dynamic_key = flow_ctx.next_dynamic_key(task.task_key)

        def run() -> Any:
            from headwater.engine.inputs import UpstreamFailed, resolve_inputs
            from headwater.engine.task_engine import run_task_sync

            try:
                resolved_args, resolved_kwargs = resolve_inputs(args, kwargs)
            except UpstreamFailed:  # settle it here: the task run is recorded as not run
                return run_task_sync(task, args, kwargs, flow_ctx, "state", wait_for, task_run_id, dynamic_key)
            return pack_task_run(task, resolved_args, resolved_kwargs, flow_ctx, task_run_id, dynamic_key)

        return run

    def submit_run(self, run: Callable[[], State[Any]]) -> concurrent.futures.Future[State[Any]]:
        # `run` packs the call in this process; the worker process unpacks and executes it.
        from headwater.engine.subprocess_tasks import execute_packed, unpack_state

        if self._executor is None:
            with self._lock:
                if self._executor is None:
                    import multiprocessing

                    self._executor = concurrent.futures.ProcessPoolExecutor(
                        self.max_workers, mp_context=multiprocessing.get_context("spawn")
                    )
        outer: concurrent.futures.Future[State[Any]] = concurrent.futures.Future()
        try:
            payload: Any = run()
        except BaseException as exc:
            outer.set_exception(exc)
            return outer
        if isinstance(payload, State):  # an upstream failure was settled without running
            outer.set_result(payload)
            return outer
        inner = self._executor.submit(execute_packed, payload)
        inner.add_done_callback(lambda f: _settle(f, outer, unpack_state))
        return outer

    def shutdown(self, wait: bool = True) -> None:
        if wait:
            self.wait_for_deferred()
        if self._executor is not None:
            self._executor.shutdown(wait=wait)
            self._executor = None


def _settle(
    inner: concurrent.futures.Future[bytes],
    outer: concurrent.futures.Future[State[Any]],
    unpack: Callable[[bytes], State[Any]],
) -> None:
    exc = inner.exception()
    if exc is not None:
        outer.set_exception(exc)
    else:
        outer.set_result(unpack(inner.result()))


__all__ = ["ProcessPoolTaskRunner", "TaskRunner", "ThreadPoolTaskRunner"]
