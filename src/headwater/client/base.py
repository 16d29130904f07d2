"""The interface the engine, the CLI and the worker use to reach an orchestrator.

Two implementations: the embedded one (the server's services in this process, over SQLite by
default) and the HTTP client (`HEADWATER_API_URL`). Methods are async; the SDK calls them from its
background loop (`headwater.engine.portal`), never on the hot path of a task call.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from headwater.schemas.actions import FlowRunCreate, LogCreate, RecordBatch
from headwater.schemas.filters import FlowRunFilter, LogFilter, TaskRunFilter
from headwater.schemas.objects import Flow, FlowRun, Log, TaskRun
from headwater.schemas.responses import OrchestrationResult
from headwater.schemas.states import StateCreate, StateSchema


class Orchestrator(Protocol):
    """The operations the SDK needs from an orchestrator, embedded or remote."""

    async def record(self, batch: RecordBatch) -> None:
        """Write a batch of client-orchestrated records; writing it again records nothing twice."""
        ...

    async def create_flow_run(self, create: FlowRunCreate) -> FlowRun:
        """Create a flow run now (and its flow, if new)."""
        ...

    async def set_flow_run_state(
        self, flow_run_id: UUID, state: StateCreate, force: bool = False
    ) -> OrchestrationResult:
        """Propose a state; the orchestration rules answer ACCEPT, REJECT, WAIT or ABORT."""
        ...

    async def read_flow_run(self, flow_run_id: UUID) -> FlowRun:
        """One flow run; raises `ObjectNotFound` when there is none with this id."""
        ...

    async def read_flow_runs(self, flow_run_filter: FlowRunFilter) -> list[FlowRun]:
        """Flow runs matching a filter, sorted and paginated."""
        ...

    async def count_flow_runs(self, flow_run_filter: FlowRunFilter) -> int:
        """How many flow runs match a filter (ignoring its limit and offset)."""
        ...

    async def read_flow_run_states(self, flow_run_id: UUID) -> list[StateSchema]:
        """A flow run's state history, oldest first."""
        ...

    async def read_task_runs(self, task_run_filter: TaskRunFilter) -> list[TaskRun]:
        """Task runs matching a filter, oldest first."""
        ...

    async def read_task_run_states(self, task_run_id: UUID) -> list[StateSchema]:
        """A task run's state history, oldest first."""
        ...

    async def read_logs(self, log_filter: LogFilter) -> list[Log]:
        """Log lines matching a filter, in the order they were emitted."""
        ...

    async def create_logs(self, logs: list[LogCreate]) -> None:
        """Record log lines now."""
        ...

    async def read_flows(self) -> list[Flow]:
        """All flows, by name."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
