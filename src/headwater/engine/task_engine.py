"""Running one task run: the shared core (`TaskRunCore`) and its thin sync and async drivers.

The hot path of a sync task inside a flow is `run_task_sync`: no I/O, a few dictionary and deque
operations; everything recorded goes to the recorder's buffer.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from headwater.core.states import StateType
from headwater.engine import recorder as rec
from headwater.engine.context import FlowRunContext, TaskRunContext, TaskRunInfo, task_run_context
from headwater.engine.inputs import UpstreamFailed, resolve_inputs, wait_for_all
from headwater.engine.retries import retry_delay, should_retry
from headwater.engine.timeouts import (
    RunTimeout,
    await_with_timeout,
    call_in_thread_with_timeout,
    in_main_thread,
    main_thread_deadline,
)
from headwater.states import State
from headwater.utilities.ids import new_id

if TYPE_CHECKING:
    from headwater.engine.recorder import Recorder
    from headwater.tasks import Task

ReturnType = Literal["result", "state"]

_COMPLETED = StateType.COMPLETED
_logger = logging.getLogger("headwater.task_runs")


class TaskRunCore:
    """Everything about a task run except calling the function: shared by the sync and async drivers."""

    __slots__ = (
        "args", "cache_key", "created", "ctx", "dynamic_key", "flow_ctx", "id", "info", "kwargs", "recorder",
        "run_count", "state", "task", "token", "wait_for",
    )

    def __init__(
        self,
        task: Task[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        flow_ctx: FlowRunContext,
        wait_for: Any = None,
        task_run_id: UUID | None = None,
        dynamic_key: int | None = None,
    ) -> None:
        self.task = task
        self.args = args
        self.kwargs = kwargs
        self.flow_ctx = flow_ctx
        self.wait_for = wait_for
        self.id = task_run_id or new_id()
        self.run_count = 0
        self.cache_key: str | None = None
        self.token = object()
        self.recorder: Recorder = rec.get_recorder()
        self.state: State[Any] = State(StateType.PENDING)
        if dynamic_key is None:
            dynamic_key = flow_ctx.next_dynamic_key(task.task_key)
        self.info = TaskRunInfo(
            id=self.id,
            name="",
            task_key=task.task_key,
            flow_run_id=flow_ctx.flow_run.id,
            tags=task.run_tags(),
            fn=task.fn,
            args=args,
            kwargs=kwargs,
        )
        self.ctx = TaskRunContext(task, self.info, task.resolve_log_prints(flow_ctx), flow_ctx)
        if callable(task.task_run_name):  # it may read `headwater.runtime.task_run`: call it in the run
            token = task_run_context.set(self.ctx)
            try:
                self.info.name = task.render_run_name(dynamic_key, self.info)
            finally:
                task_run_context.reset(token)
        else:
            self.info.name = task.render_run_name(dynamic_key, self.info)
        self.dynamic_key = dynamic_key
        self.created = False

    def _create(self, initial: State[Any]) -> None:
        # A task run is recorded when it first takes a state: RUNNING for one that runs now (a pending
        # phase would be instantaneous), or its final state when it is settled without running.
        self.state = initial
        self.created = True
        self.recorder.add(
            (rec.TASK_RUN, self.id, self.info.name, self.info.flow_run_id, self.task.task_key, self.dynamic_key,
             self.info.tags, self.cache_key, None, initial, self.run_count)
        )

    # -- before the first attempt -----------------------------------------------------------------
    def begin(self) -> State[Any] | None:
        """Resolve inputs and look up the cache; returns a final state when the function must not run."""
        try:
            wait_for_all(self.wait_for)
            self.args, self.kwargs = resolve_inputs(self.args, self.kwargs)
        except UpstreamFailed as exc:
            return self._set_final(State(
                StateType.FAILED, "NotReady",
                f"Upstream run {exc.state.name!r} did not complete ({exc.state.message or exc.state.type.value});"
                " this task was not run.",
                exc.state.data if isinstance(exc.state.data, BaseException) else exc,
            ))
        self.info.args, self.info.kwargs = self.args, self.kwargs
        task = self.task
        if task.cache_policy_in_force is not None:
            self.cache_key = task.compute_cache_key(self.info, self.flow_ctx)
            if self.cache_key and not task.refresh_cache:
                found, value = task.result_store_for(self.flow_ctx).read_if_fresh(self.cache_key)
                if found:
                    return self._set_final(State(StateType.COMPLETED, "Cached", data=value, cache_key=self.cache_key))
        return None

    def start_attempt(self) -> None:
        """Enter RUNNING (or Retrying) and set the task run context."""
        self.run_count += 1
        self.info.run_count = self.run_count
        if not self.created:
            self._create(State(StateType.RUNNING))
        else:
            self._set_state(State(StateType.RUNNING, "Retrying"))

    # -- after an attempt -------------------------------------------------------------------------
    def on_success(self, value: Any) -> float | None:
        """Record the outcome of a returned value; returns a retry delay, or None when final."""
        state: State[Any]
        if isinstance(value, State):
            state = value
        else:
            state = State[Any](_COMPLETED, data=value, cache_key=self.cache_key)
            if self.task.should_persist(self.flow_ctx):
                try:
                    expiration = None
                    if self.task.cache_expiration is not None:
                        expiration = datetime.now(UTC) + _as_timedelta(self.task.cache_expiration)
                    key = self.cache_key or new_id().hex
                    state.result_ref = self.task.result_store_for(self.flow_ctx).write(key, value, expiration)
                except Exception as exc:
                    return self.on_exception(exc)
        if state.type is _COMPLETED:
            self._set_final(state)
            return None
        return self._after_failure(state)

    def on_exception(self, exc: BaseException) -> float | None:
        """Record a raised exception; returns a retry delay, or None when final."""
        state: State[Any]
        if isinstance(exc, RunTimeout) and exc.token is self.token:
            state = State(StateType.FAILED, "TimedOut", str(exc), exc)
        elif isinstance(exc, Exception):
            state = State(StateType.FAILED, message=f"Task run encountered an exception {type(exc).__name__}: {exc}",
                          data=exc)
        else:  # KeyboardInterrupt, SystemExit, an enclosing timeout: the run cannot go on
            self._set_final(State(StateType.CRASHED, message=f"Execution was interrupted: {exc!r}", data=exc))
            raise exc
        return self._after_failure(state)

    def _after_failure(self, state: State[Any]) -> float | None:
        task = self.task
        if self.run_count <= task.retries and should_retry(task.retry_condition_fn, task, self.info, state):
            delay = retry_delay(task.retry_delay_seconds, task.retries, self.run_count, task.retry_jitter_factor)
            self._logger().info("Attempt %d failed (%s); retrying in %.3g s.", self.run_count, state.message, delay)
            self._set_state(State(StateType.FAILED, state.name, state.message, state.data))
            self._set_state(State(StateType.SCHEDULED, "AwaitingRetry",
                                  scheduled_time=datetime.now(UTC) + timedelta(seconds=delay)))
            return delay
        self._set_final(state)
        return None

    # -- the end ----------------------------------------------------------------------------------
    def finish(self, return_type: ReturnType) -> Any:
        """Run the hooks; return the result (raising a failure) or the final state."""
        state = self.state
        hooks = self.task.on_completion if state.type is _COMPLETED else self.task.on_failure
        if hooks:
            token = task_run_context.set(self.ctx)  # inside the run, as in Prefect: hooks may log to it
            try:
                for hook in hooks:
                    try:
                        hook(self.task, self.info, state)
                    except Exception:
                        self._logger().exception("State hook %r raised an error", getattr(hook, "__name__", hook))
            finally:
                task_run_context.reset(token)
        if return_type == "state":
            return state
        if state.type is _COMPLETED:
            return state.result()
        if state.name != "NotReady":
            self._logger().error("Finished in state %r: %s", state.name, state.message)
        return state.result()

    def _set_state(self, state: State[Any]) -> None:
        if not self.created:
            self._create(state)
            return
        self.state = state
        self.recorder.add((rec.TASK_STATE, self.id, state, self.run_count))

    def _set_final(self, state: State[Any]) -> State[Any]:
        self._set_state(state)
        if _logger.isEnabledFor(logging.DEBUG):
            self._logger().debug("Finished in state %r", state)
        return state

    def _logger(self) -> logging.LoggerAdapter[logging.Logger]:
        from headwater.logging.loggers import task_run_logger

        return task_run_logger(self.ctx)


def _as_timedelta(value: timedelta | float) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def run_task_sync(
    task: Task[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    flow_ctx: FlowRunContext,
    return_type: ReturnType = "result",
    wait_for: Any = None,
    task_run_id: UUID | None = None,
    dynamic_key: int | None = None,
) -> Any:
    """Run a sync task in this thread, inside a flow run."""
    core = TaskRunCore(task, args, kwargs, flow_ctx, wait_for, task_run_id, dynamic_key)
    if core.begin() is None:
        fn, timeout = task.fn, task.timeout_seconds
        while True:
            core.start_attempt()
            token = task_run_context.set(core.ctx)
            try:
                if timeout is None:
                    value = fn(*core.args, **core.kwargs)
                elif in_main_thread():
                    with main_thread_deadline(timeout, f"Task run {core.info.name!r}", core.token):
                        value = fn(*core.args, **core.kwargs)
                else:
                    value = call_in_thread_with_timeout(
                        fn, core.args, core.kwargs, timeout, f"Task run {core.info.name!r}", core.token
                    )
            except BaseException as exc:
                delay = core.on_exception(exc)
            else:
                delay = core.on_success(value)
            finally:
                task_run_context.reset(token)
            if delay is None:
                break
            if delay:
                time.sleep(delay)
    return core.finish(return_type)


async def run_task_async(
    task: Task[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    flow_ctx: FlowRunContext,
    return_type: ReturnType = "result",
    wait_for: Any = None,
    task_run_id: UUID | None = None,
) -> Any:
    """Run an async task on the running event loop, inside a flow run."""
    import asyncio

    core = TaskRunCore(task, args, kwargs, flow_ctx, wait_for, task_run_id)
    if core.begin() is None:
        fn, timeout = task.fn, task.timeout_seconds
        while True:
            core.start_attempt()
            token = task_run_context.set(core.ctx)
            try:
                if timeout is None:
                    value = await fn(*core.args, **core.kwargs)
                else:
                    value = await await_with_timeout(
                        fn(*core.args, **core.kwargs), timeout, f"Task run {core.info.name!r}", core.token
                    )
            except BaseException as exc:
                delay = core.on_exception(exc)
            else:
                delay = core.on_success(value)
            finally:
                task_run_context.reset(token)
            if delay is None:
                break
            if delay:
                await asyncio.sleep(delay)
    return core.finish(return_type)
