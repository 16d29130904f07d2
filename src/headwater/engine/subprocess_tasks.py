"""Running a task run in a worker process (`ProcessPoolTaskRunner`): packing the call, executing it
there under the same flow run, and bringing the final state back."""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any
from uuid import UUID

from headwater.states import State

if TYPE_CHECKING:
    from headwater.engine.context import FlowRunContext
    from headwater.tasks import Task


def pack_task_run(
    task: Task[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    flow_ctx: FlowRunContext,
    task_run_id: UUID,
    dynamic_key: int,
) -> bytes:
    """The call, its flow run's facts and this process's settings overrides, as bytes."""
    import cloudpickle

    from headwater.settings import current_overrides

    snapshot = {
        "flow": flow_ctx.flow,
        "flow_run": flow_ctx.flow_run,
        "log_prints": flow_ctx.log_prints,
        "persist_result": flow_ctx.persist_result,
        "result_store": flow_ctx.result_store,
    }
    return bytes(cloudpickle.dumps((task, args, kwargs, snapshot, task_run_id, dynamic_key, current_overrides())))


def execute_packed(payload: bytes) -> bytes:
    """In the worker process: run the packed task run, flush its records, return its final state."""
    import cloudpickle

    from headwater.engine.context import FlowRunContext, flow_run_context
    from headwater.engine.recorder import get_recorder
    from headwater.engine.task_engine import run_task_sync
    from headwater.settings import temporary_settings
    from headwater.task_runners import ThreadPoolTaskRunner

    task, args, kwargs, snapshot, task_run_id, dynamic_key, overrides = pickle.loads(payload)
    with temporary_settings(**overrides):
        ctx = FlowRunContext(
            flow=snapshot["flow"],
            flow_run=snapshot["flow_run"],
            task_runner=ThreadPoolTaskRunner(),
            result_store=snapshot["result_store"],
            log_prints=snapshot["log_prints"],
            persist_result=snapshot["persist_result"],
        )
        token = flow_run_context.set(ctx)
        try:
            state = run_task_sync(task, args, kwargs, ctx, "state", None, task_run_id, dynamic_key)
        finally:
            flow_run_context.reset(token)
            get_recorder().flush()
    try:
        return bytes(cloudpickle.dumps(state))
    except Exception:  # the value or exception cannot travel back: keep the state, describe the data
        kept: State[Any] = State(state.type, state.name, state.message, data=RuntimeError(repr(state.data)),
                     result_ref=state.result_ref)
        return bytes(cloudpickle.dumps(kept))


def unpack_state(data: bytes) -> State[Any]:
    """The final state sent back by `execute_packed`."""
    state: State[Any] = pickle.loads(data)
    return state
