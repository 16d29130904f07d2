"""Running one flow run: the shared core (`FlowRunCore`) and its thin sync and async drivers.

A flow run started in this process (a top-level call or a subflow) is recorded through the recorder
like a task run: its id is chosen here, so starting it waits on no I/O. A subflow is linked to its
parent through a task run in the parent that stands for the call.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from headwater.core.names import generate_run_name
from headwater.core.states import StateType
from headwater.engine import recorder as rec
from headwater.engine.context import FlowRunContext, FlowRunInfo, flow_run_context, task_run_context
from headwater.engine.final_state import return_value_to_state
from headwater.engine.retries import retry_delay, should_retry
from headwater.engine.timeouts import (
    RunTimeout,
    await_with_timeout,
    call_in_thread_with_timeout,
    in_main_thread,
    main_thread_deadline,
)
from headwater.exceptions import CancelledRun, HeadwaterException, TerminationSignal
from headwater.logging.handlers import drain_console
from headwater.states import State
from headwater.utilities.ids import new_id

if TYPE_CHECKING:
    from headwater.flows import Flow
    from headwater.results import ResultStore
    from headwater.schemas.objects import FlowRun

ReturnType = Literal["result", "state"]
_SUBFLOW_TASK_PREFIX = "subflow"


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of parameters for the record (objects JSON cannot hold are shown as text)."""
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value, fallback=str)


def _default_store() -> ResultStore:
    from headwater.results import ResultStore

    return ResultStore.create(None, None)


class FlowRunCore:
    """Everything about a flow run except calling the function."""

    def __init__(
        self,
        flow: Flow[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        existing: FlowRun | None = None,
    ) -> None:
        self.flow = flow
        self.args = args
        self.kwargs = kwargs
        self.existing = existing
        """A run the orchestrator created (a deployment run): its states are proposed, not recorded."""
        self.id = existing.id if existing else new_id()
        self.token = object()
        self.run_count = 0
        self.recorder = rec.get_recorder()
        self.parent = None if existing else flow_run_context.get()
        self.parent_task_run_id = new_id() if self.parent is not None else None
        self.state: State[Any] = State(StateType.PENDING)
        self.ctx: FlowRunContext | None = None
        self.logger: logging.LoggerAdapter[logging.Logger] | None = None
        self.crash: BaseException | None = None
        self.cancelled_from_elsewhere = False
        self.sigterm_armed = False

    # -- before the first attempt -----------------------------------------------------------------
    def begin(self) -> State[Any] | None:
        """Bind and validate parameters, record the run; returns a final state when it must not run."""
        from headwater.exceptions import ParameterBindError, ParameterTypeError

        flow = self.flow
        problem: HeadwaterException | None = None
        try:
            parameters = flow.bind(self.args, self.kwargs)
        except ParameterBindError as exc:
            parameters, problem = flow.bind_partial(self.args, self.kwargs), exc
        info = FlowRunInfo(
            id=self.id,
            name="",
            flow_name=flow.name,
            parameters=parameters,
            tags=flow.run_tags(),
            parent_task_run_id=self.parent_task_run_id,
            parent_flow_run_id=self.parent.flow_run.id if self.parent else None,
        )
        if self.existing is not None:
            info.tags = sorted(set(info.tags) | set(self.existing.tags))
            info.parent_task_run_id = self.existing.parent_task_run_id
            info.parent_flow_run_id = self.existing.parent_flow_run_id
            info.deployment_id = self.existing.deployment_id
            info.scheduled_start_time = self.existing.expected_start_time
        self.ctx = FlowRunContext(
            flow=flow,
            flow_run=info,
            task_runner=flow.task_runner.duplicate(),
            result_store=flow.result_store(),
            # A subflow that does not say inherits its parent's choice.
            log_prints=flow.log_prints if flow.log_prints is not None else bool(self.parent and self.parent.log_prints),
            persist_result=flow.persist_result,
            parent=self.parent,
        )
        if self.existing is not None:
            info.name = self.existing.name
        elif problem is not None:
            info.name = generate_run_name()
        elif callable(flow.flow_run_name):  # it may read `headwater.runtime.flow_run`: call it in the run
            token = flow_run_context.set(self.ctx)
            try:
                info.name = flow.render_run_name(info)
            finally:
                flow_run_context.reset(token)
        else:
            info.name = flow.render_run_name(info)
        from headwater.logging.loggers import flow_run_logger

        self.logger = flow_run_logger(self.ctx)
        if self.existing is None:
            self._record_creation(info)
        else:
            self.recorder.run_started(self.id)  # heartbeats
        if problem is None and flow.should_validate_parameters:
            try:
                info.parameters = flow.validate(parameters)
            except ParameterTypeError as exc:
                problem = exc
        if problem is not None:
            return self._settle(State(StateType.FAILED, "Failed", f"Flow run received invalid parameters: {problem}",
                                      problem))
        if self.existing is not None:
            refusal = self._claim_running()
            if refusal is not None:
                return refusal
        self.logger.info("Beginning flow run %r for flow %r", info.name, flow.name)
        return None

    def _claim_running(self) -> State[Any] | None:
        """Propose RUNNING for an orchestrator-created run; returns its state when it may not run."""
        from headwater.engine.proposals import propose

        while True:
            answer, current, delay = propose(self.id, State(StateType.RUNNING))
            if answer == "ACCEPT":
                self.run_count = 1
                assert self.ctx is not None
                self.ctx.flow_run.run_count = 1
                self.state = current
                return None
            if answer == "WAIT":
                time.sleep(delay or 1.0)
                continue
            assert self.logger is not None
            self.logger.warning("The orchestrator did not let this run start (%s): %s", answer, current.message)
            self.state = current
            return current

    def _record_creation(self, info: FlowRunInfo) -> None:
        if self.parent is not None:
            parent_info = self.parent.flow_run
            dynamic_key = self.parent.next_dynamic_key(f"{_SUBFLOW_TASK_PREFIX}-{self.flow.name}")
            self.recorder.add((
                rec.TASK_RUN, self.parent_task_run_id, f"{self.flow.name}-{dynamic_key}", parent_info.id,
                f"{_SUBFLOW_TASK_PREFIX}-{self.flow.name}", dynamic_key, [], None, self.id, State(StateType.RUNNING),
                1,
            ))
        self.recorder.add((rec.FLOW_RUN, {
            "id": self.id,
            "name": info.name,
            "flow_name": self.flow.name,
            "parameters": jsonable(info.parameters),
            "tags": info.tags,
            "parent_task_run_id": self.parent_task_run_id,
            "state": rec.state_payload(self.state),
        }))
        self.recorder.run_started(self.id)

    def start_attempt(self) -> None:
        """Enter RUNNING (or Retrying)."""
        assert self.ctx is not None
        if self.existing is not None and self.run_count == 1 and self.state.is_running():
            return  # the first RUNNING was proposed (and accepted) when the run began
        self.run_count += 1
        self.ctx.flow_run.run_count = self.run_count
        if self.run_count > 1:
            self.ctx.task_runner = self.flow.task_runner.duplicate()
        self._set_state(State(StateType.RUNNING, "Retrying" if self.run_count > 1 else None))

    # -- after an attempt -------------------------------------------------------------------------
    def on_success(self, value: Any) -> float | None:
        """Settle the attempt from the returned value; a retry delay, or None when final."""
        self._drain_task_runner()
        if self.sigterm_armed and self._cancellation_requested():
            # Cancelled from elsewhere while it ran, and it finished before the recorder noticed.
            self.cancelled_from_elsewhere = True
            self._settle(State(StateType.CANCELLED, message="The run was cancelled."))
            self.crash = CancelledRun("The flow run was cancelled.")
            return None
        state = return_value_to_state(value)
        if state.is_completed():
            # A deployment run's caller reads its result from another process: persist it.
            persist = self.flow.persist_result if self.existing is None else self.flow.persist_result is not False
            if persist:
                try:
                    store = self.flow.result_store() or _default_store()
                    state.result_ref = store.write(new_id().hex, state.data)
                except Exception as exc:
                    return self.on_exception(exc)
            self._settle(state)
            return None
        return self._after_failure(state)

    def on_exception(self, exc: BaseException) -> float | None:
        """Settle the attempt from a raised exception; a retry delay, or None when final."""
        if isinstance(exc, RunTimeout) and exc.token is self.token:
            self._drain_task_runner(wait=False)
            return self._after_failure(State(StateType.FAILED, "TimedOut", str(exc), exc))
        if isinstance(exc, Exception):
            self._drain_task_runner()
            message = f"Flow run encountered an exception: {type(exc).__name__}: {exc}"
            return self._after_failure(State(StateType.FAILED, message=message, data=exc))
        # Ctrl-C, SIGTERM, an enclosing timeout: the run cannot go on, and nothing may be lost.
        self._drain_task_runner(wait=False)
        reason = "interrupted by the user (Ctrl-C)" if isinstance(exc, KeyboardInterrupt) else f"{exc!r}"
        if isinstance(exc, TerminationSignal):
            reason = f"the process received signal {exc.signum} (terminated)"
            if self._cancellation_requested():
                self._settle(State(StateType.CANCELLED, message="The run was cancelled.", data=exc))
                # A worker's SIGTERM ends its process; a run cancelled under a user's program raises there.
                self.crash = CancelledRun("The flow run was cancelled.") if self.cancelled_from_elsewhere else exc
                return None
        self._settle(State(StateType.CRASHED, message=f"Execution was interrupted: {reason}.", data=exc))
        self.crash = exc  # re-raised by the driver once the run is recorded
        return None

    def _after_failure(self, state: State[Any]) -> float | None:
        flow = self.flow
        assert self.ctx is not None and self.logger is not None
        if self.run_count <= flow.retries and should_retry(flow.retry_condition_fn, flow, self.ctx.flow_run, state):
            delay = retry_delay(flow.retry_delay_seconds, flow.retries, self.run_count, flow.retry_jitter_factor)
            self.logger.info("Attempt %d failed (%s); retrying in %.3g s.", self.run_count, state.message, delay)
            self._set_state(State(StateType.FAILED, state.name, state.message, state.data))
            self._set_state(State(StateType.SCHEDULED, "AwaitingRetry",
                                  scheduled_time=datetime.now(UTC) + timedelta(seconds=delay)))
            return delay
        self._settle(state)
        return None

    def _drain_task_runner(self, wait: bool = True) -> None:
        if self.ctx is not None:
            self.ctx.task_runner.shutdown(wait=wait)

    # -- the end ----------------------------------------------------------------------------------
    def _set_state(self, state: State[Any]) -> None:
        self.state = state
        if self.existing is None:
            self.recorder.add((rec.FLOW_STATE, self.id, state, self.run_count))
            return
        from headwater.engine.proposals import propose

        if state.is_final():
            self.recorder.flush()  # whoever sees the run final finds its task runs and logs stored
        answer, current, _ = propose(self.id, state)
        if answer != "ACCEPT":
            assert self.logger is not None
            self.logger.warning("The orchestrator answered %s to %r; the run is %r.", answer, state, current)

    def _cancellation_requested(self) -> bool:
        """Whether the orchestrator has this run CANCELLING (a worker's SIGTERM then means "cancel")."""
        from headwater.engine.proposals import current_state_type
        from headwater.settings import get_settings

        # Bounded like a flush: an orchestrator that does not answer must not hold the run's end.
        timeout = get_settings().record_flush_timeout_seconds
        try:
            return current_state_type(self.id, timeout) is StateType.CANCELLING
        except Exception:  # unknown to the store yet, or the store is unreachable: not a cancellation
            return False

    def _settle(self, state: State[Any]) -> State[Any]:
        self._set_state(state)
        if self.parent_task_run_id is not None:
            mirrored: State[Any] = State(state.type, state.name, state.message, result_ref=state.result_ref)
            self.recorder.add((rec.TASK_STATE, self.parent_task_run_id, mirrored, 1))
        return state

    def finish(self) -> State[Any]:
        """Run the hooks and log the outcome; returns the final state."""
        state = self.state
        assert self.logger is not None
        self.run_hooks(state)
        level = logging.INFO if state.is_completed() else logging.ERROR
        self.logger.log(level, "Finished in state %r", state)
        self.recorder.run_finished(self.id)
        return state

    @property
    def is_top_level(self) -> bool:
        """Whether this run was not started by another flow run in this process."""
        return self.parent is None

    def run_hooks(self, state: State[Any]) -> None:
        """Call the state hooks the flow declares for this final state."""
        flow = self.flow
        hooks = {
            StateType.COMPLETED: flow.on_completion,
            StateType.FAILED: flow.on_failure,
            StateType.CRASHED: flow.on_crashed,
            StateType.CANCELLED: flow.on_cancellation,
        }.get(state.type, [])
        assert self.ctx is not None and self.logger is not None
        if not hooks:
            return
        with _run_context(self):  # inside the run, as in Prefect: a hook may call `get_run_logger()`
            for hook in hooks:
                try:
                    hook(flow, self.ctx.flow_run, state)
                except Exception:
                    self.logger.exception("State hook %r raised an error", getattr(hook, "__name__", hook))


@contextmanager
def _run_context(core: FlowRunCore) -> Iterator[None]:
    assert core.ctx is not None
    flow_token = flow_run_context.set(core.ctx)
    task_token = task_run_context.set(None)  # a subflow inside a task: its tasks belong to the subflow
    try:
        yield
    finally:
        task_run_context.reset(task_token)
        flow_run_context.reset(flow_token)


@contextmanager
def _terminate_on_sigterm(core: FlowRunCore) -> Iterator[None]:
    """While a top-level run executes on the main thread, SIGTERM unwinds it like Ctrl-C would."""
    if core.parent is not None or not in_main_thread():
        yield
        return

    def on_sigterm(signum: int, frame: Any) -> None:
        raise TerminationSignal(signum)

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    if core.existing is None:
        # Cancelled from elsewhere (`headwater flow-run cancel`): the recorder notices and the main
        # thread gets SIGTERM, which also interrupts whatever it waits on; the run then ends CANCELLED.
        armed = threading.Lock()

        def cancel() -> None:
            with armed:  # never after the handler is gone: SIGTERM would then end the process
                if core.sigterm_armed:
                    core.cancelled_from_elsewhere = True
                    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)

        core.sigterm_armed = True
        core.recorder.watch_cancellation(core.id, cancel)
    try:
        yield
    finally:
        if core.existing is None:
            with armed:
                core.sigterm_armed = False
        signal.signal(signal.SIGTERM, previous)


def run_flow_sync(
    flow: Flow[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], return_type: ReturnType = "result"
) -> Any:
    """Run a sync flow in this thread."""
    return run_core_sync(FlowRunCore(flow, args, kwargs), return_type)


def run_core_sync(core: FlowRunCore, return_type: ReturnType = "result") -> Any:
    """Drive a sync flow run to its end in this thread."""
    flow = core.flow
    with _terminate_on_sigterm(core):
        if core.begin() is None:
            assert core.ctx is not None
            timeout, label = flow.timeout_seconds, f"Flow run {core.ctx.flow_run.name!r}"
            while True:
                core.start_attempt()
                call_args, call_kwargs = flow.call_arguments(core.ctx.flow_run.parameters)
                try:
                    with _run_context(core):
                        if timeout is None:
                            value = flow.fn(*call_args, **call_kwargs)
                        elif in_main_thread():
                            with main_thread_deadline(timeout, label, core.token):
                                value = flow.fn(*call_args, **call_kwargs)
                        else:
                            value = call_in_thread_with_timeout(
                                flow.fn, call_args, call_kwargs, timeout, label, core.token
                            )
                except BaseException as exc:
                    delay = core.on_exception(exc)
                else:
                    delay = core.on_success(value)
                if delay is None:
                    break
                time.sleep(delay)
        state = core.finish()
    if core.is_top_level:
        core.recorder.flush()  # a top-level run returns only once everything it recorded is stored
        drain_console()
    if core.crash is not None:
        raise core.crash
    return state if return_type == "state" else state.result()


async def run_flow_async(
    flow: Flow[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], return_type: ReturnType = "result"
) -> Any:
    """Run an async flow on the running event loop."""
    return await run_core_async(FlowRunCore(flow, args, kwargs), return_type)


async def run_core_async(core: FlowRunCore, return_type: ReturnType = "result") -> Any:
    """Drive an async flow run to its end on the running event loop."""
    import asyncio

    flow = core.flow
    with _terminate_on_sigterm(core):
        if core.begin() is None:
            assert core.ctx is not None
            timeout, label = flow.timeout_seconds, f"Flow run {core.ctx.flow_run.name!r}"
            while True:
                core.start_attempt()
                call_args, call_kwargs = flow.call_arguments(core.ctx.flow_run.parameters)
                try:
                    with _run_context(core):
                        if timeout is None:
                            value = await flow.fn(*call_args, **call_kwargs)
                        else:
                            value = await await_with_timeout(
                                flow.fn(*call_args, **call_kwargs), timeout, label, core.token
                            )
                except BaseException as exc:
                    delay = core.on_exception(exc)
                else:
                    delay = core.on_success(value)
                if delay is None:
                    break
                await asyncio.sleep(delay)
        state = core.finish()
    if core.is_top_level:
        # Flushing waits on the portal; keep this event loop free meanwhile.
        await asyncio.get_running_loop().run_in_executor(None, core.recorder.flush)
        drain_console()
    if core.crash is not None:
        raise core.crash
    return state if return_type == "state" else state.result()
