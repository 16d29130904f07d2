"""What the engine knows about the runs in progress, kept in context variables.

`FlowRunContext` is set while a flow run's body executes, `TaskRunContext` while a task's does. Each
copies cleanly into threads (`contextvars.copy_context`), so submitted tasks see their flow run.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from headwater.flows import Flow
    from headwater.results import ResultStore
    from headwater.task_runners import TaskRunner
    from headwater.tasks import Task


@dataclass
class FlowRunInfo:
    """The facts of a flow run that user code can read through `headwater.runtime.flow_run`."""

    id: UUID
    name: str
    flow_name: str
    parameters: dict[str, Any]
    tags: list[str]
    parent_task_run_id: UUID | None = None
    parent_flow_run_id: UUID | None = None
    run_count: int = 0
    scheduled_start_time: datetime | None = None
    deployment_id: UUID | None = None


class TaskRunInfo:
    """The facts of a task run that user code can read through `headwater.runtime.task_run`.

    `parameters` is bound from the call's arguments on first access only: most runs never need it.
    """

    __slots__ = (
        "_parameters",
        "args",
        "flow_run_id",
        "fn",
        "id",
        "kwargs",
        "name",
        "run_count",
        "tags",
        "task_key",
    )

    def __init__(
        self,
        id: UUID,
        name: str,
        task_key: str,
        flow_run_id: UUID | None,
        tags: list[str],
        fn: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self.id = id
        self.name = name
        self.task_key = task_key
        self.flow_run_id = flow_run_id
        self.tags = tags
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.run_count = 0
        self._parameters: dict[str, Any] | None = None

    @property
    def parameters(self) -> dict[str, Any]:
        """The call's arguments by parameter name."""
        if self._parameters is None:
            from headwater.engine.parameters import bind_arguments

            self._parameters = bind_arguments(self.fn, self.args, self.kwargs)
        return self._parameters

    def __repr__(self) -> str:
        return f"TaskRun(id={self.id}, name={self.name!r})"


@dataclass
class FlowRunContext:
    """Set while a flow run's body executes."""

    flow: Flow[..., Any]
    flow_run: FlowRunInfo
    task_runner: TaskRunner
    result_store: ResultStore | None
    log_prints: bool
    persist_result: bool | None
    parent: FlowRunContext | None = None
    _dynamic_keys: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_dynamic_key(self, task_key: str) -> int:
        """A counter per task within this flow run: `add-0`, `add-1` …"""
        with self._lock:
            n = self._dynamic_keys.get(task_key, 0)
            self._dynamic_keys[task_key] = n + 1
        return n


@dataclass
class TaskRunContext:
    """Set while a task run's body executes."""

    task: Task[..., Any]
    task_run: TaskRunInfo
    log_prints: bool
    flow_run_context: FlowRunContext | None


flow_run_context: ContextVar[FlowRunContext | None] = ContextVar("headwater_flow_run", default=None)
task_run_context: ContextVar[TaskRunContext | None] = ContextVar("headwater_task_run", default=None)


def current_flow_run() -> FlowRunContext | None:
    """The flow run whose body is executing here, if any."""
    return flow_run_context.get()


def current_task_run() -> TaskRunContext | None:
    """The task run whose body is executing here, if any."""
    return task_run_context.get()
