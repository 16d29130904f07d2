"""`task.submit()` outside of any flow: the task runs in a shared thread pool as a plain call, without
being recorded (there is no flow run to record it under)."""

from __future__ import annotations

import concurrent.futures
import threading
from typing import TYPE_CHECKING, Any

from headwater.core.states import StateType
from headwater.futures import HeadwaterFuture
from headwater.states import State
from headwater.utilities.ids import new_id

if TYPE_CHECKING:
    from headwater.tasks import Task

_pool: concurrent.futures.ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="headwater-standalone")
        return _pool


def call_for_state(task: Task[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`task(..., return_state=True)` outside a flow: the plain call's outcome as a state (a coroutine
    of one for an async task)."""
    if task.is_async:
        async def run_async() -> State[Any]:
            try:
                value = await task.fn(*args, **kwargs)
            except Exception as exc:
                return State(StateType.FAILED, message=f"{type(exc).__name__}: {exc}", data=exc)
            return value if isinstance(value, State) else State(StateType.COMPLETED, data=value)

        return run_async()
    try:
        value = task.fn(*args, **kwargs)
    except Exception as exc:
        return State(StateType.FAILED, message=f"{type(exc).__name__}: {exc}", data=exc)
    return value if isinstance(value, State) else State(StateType.COMPLETED, data=value)


def submit_outside_flow(
    task: Task[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], wait_for: Any
) -> HeadwaterFuture[Any]:
    """Run the task's function in a thread and return a future of its state."""
    from headwater.engine.inputs import UpstreamFailed, resolve_inputs, wait_for_all

    def run() -> State[Any]:
        try:
            wait_for_all(wait_for)
            call_args, call_kwargs = resolve_inputs(args, kwargs)
            if task.is_async:
                import asyncio

                value = asyncio.run(task.fn(*call_args, **call_kwargs))
            else:
                value = task.fn(*call_args, **call_kwargs)
        except UpstreamFailed as exc:
            return State(StateType.FAILED, "NotReady", str(exc), exc)
        except Exception as exc:
            return State(StateType.FAILED, message=f"{type(exc).__name__}: {exc}", data=exc)
        return value if isinstance(value, State) else State(StateType.COMPLETED, data=value)

    return HeadwaterFuture(new_id(), _executor().submit(run))
