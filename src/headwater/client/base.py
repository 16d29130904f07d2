"""The interface the engine, the CLI and the worker use to reach an orchestrator.

Two implementations: the embedded one (the server's services in this process, over SQLite by
default) and the HTTP client (`HEADWATER_API_URL`). Methods are async; the SDK calls them from its
background loop (`headwater.engine.portal`), never on the hot path of a task call.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from headwater.schemas.actions import FlowRunCreate, LogCreate, RecordBatch
from headwater.schemas.deployments import (
    Deployment,
    DeploymentApplied,
    DeploymentCreate,
    DeploymentFilter,
    DeploymentFlowRunCreate,
    DeploymentUpdate,
)
from headwater.schemas.filters import FlowRunFilter, LogFilter, TaskRunFilter
from headwater.schemas.objects import Flow, FlowRun, Log, TaskRun
from headwater.schemas.responses import OrchestrationResult
from headwater.schemas.states import StateCreate, StateSchema
from headwater.schemas.work_pools import (
    GetScheduledFlowRuns,
    Worker,
    WorkerFlowRunResponse,
    WorkerHeartbeat,
    WorkPool,
    WorkPoolCreate,
    WorkPoolUpdate,
    WorkQueue,
    WorkQueueCreate,
    WorkQueueUpdate,
)


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

    async def wait_for_flow_run(self, flow_run_id: UUID, timeout_seconds: float) -> FlowRun:
        """The flow run once it is final, or as it is when `timeout_seconds` pass (long-poll)."""
        ...

    # -- deployments ------------------------------------------------------------------------------
    async def apply_deployment(self, create: DeploymentCreate) -> DeploymentApplied:
        """Create a deployment, or update the one with this flow and name in place; a missing work
        pool is created as a `process` pool."""
        ...

    async def read_deployment(self, deployment_id: UUID) -> Deployment:
        """One deployment; raises `ObjectNotFound`."""
        ...

    async def read_deployment_by_name(self, name: str) -> Deployment:
        """A deployment by `flow-name/deployment-name`; raises `ObjectNotFound` naming what is missing."""
        ...

    async def read_deployments(self, deployment_filter: DeploymentFilter) -> list[Deployment]:
        """Deployments matching a filter, by flow name then name."""
        ...

    async def update_deployment(self, deployment_id: UUID, update: DeploymentUpdate) -> Deployment:
        """Change some fields of a deployment (pause, resume …)."""
        ...

    async def delete_deployment(self, deployment_id: UUID) -> None:
        """Delete a deployment (its past runs stay)."""
        ...

    async def create_flow_run_from_deployment(
        self, deployment_id: UUID, create: DeploymentFlowRunCreate
    ) -> FlowRun:
        """A new run of a deployment; parameters are merged over its defaults and validated against its
        schema (`InvalidInput` naming the parameter otherwise)."""
        ...

    # -- work pools, queues, workers --------------------------------------------------------------
    async def create_work_pool(self, create: WorkPoolCreate) -> WorkPool:
        """A new work pool (with its `default` queue)."""
        ...

    async def read_work_pool(self, name: str) -> WorkPool:
        """One work pool by name; raises `ObjectNotFound`."""
        ...

    async def read_work_pools(self) -> list[WorkPool]:
        """All work pools, by name."""
        ...

    async def update_work_pool(self, name: str, update: WorkPoolUpdate) -> WorkPool:
        """Change some fields of a work pool (pause, resume, concurrency limit …)."""
        ...

    async def delete_work_pool(self, name: str) -> None:
        """Delete a work pool and its queues."""
        ...

    async def create_work_queue(self, work_pool_name: str, create: WorkQueueCreate) -> WorkQueue:
        """A new queue in a pool."""
        ...

    async def read_work_queues(self, work_pool_name: str) -> list[WorkQueue]:
        """A pool's queues, by priority."""
        ...

    async def update_work_queue(self, work_pool_name: str, name: str, update: WorkQueueUpdate) -> WorkQueue:
        """Change some fields of a queue."""
        ...

    async def worker_heartbeat(self, work_pool_name: str, heartbeat: WorkerHeartbeat) -> None:
        """A worker is alive and polling the pool."""
        ...

    async def read_workers(self, work_pool_name: str) -> list[Worker]:
        """The workers that have polled a pool."""
        ...

    async def get_scheduled_flow_runs(
        self, work_pool_name: str, request: GetScheduledFlowRuns
    ) -> list[WorkerFlowRunResponse]:
        """Runs due in the pool's queues, within the pool's, queues' and deployments' concurrency
        limits, highest-priority queue first; waits up to `request.wait_seconds` for one (long-poll)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
