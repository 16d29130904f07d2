"""The embedded orchestrator: the server's services called in this process, on the SDK's portal loop.

This is a composition root (it may import both stacks). With no API URL configured, runs are recorded
straight into the store (SQLite at `$HEADWATER_HOME/headwater.db` by default) through the same service
functions the HTTP API calls.
"""

from __future__ import annotations

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
from headwater.server.services import (
    deployment_runs,
    deployments,
    flow_run_waits,
    flow_runs,
    flows,
    logs,
    records,
    scheduled_runs,
    task_runs,
    work_pools,
    workers,
)
from headwater.server.services.orchestration import set_flow_run_state
from headwater.server.storage.database import Database


class EmbeddedOrchestrator:
    """`Orchestrator` over a `Database` in this process."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, url: str) -> EmbeddedOrchestrator:
        """Open (and if needed create and migrate) the store at `url`."""
        db = Database(url)
        await db.open()
        return cls(db)

    async def record(self, batch: RecordBatch) -> None:
        await records.record_batch(self.db, batch)

    async def create_flow_run(self, create: FlowRunCreate) -> FlowRun:
        return await flow_runs.create_flow_run(self.db, create)

    async def set_flow_run_state(
        self, flow_run_id: UUID, state: StateCreate, force: bool = False
    ) -> OrchestrationResult:
        return await set_flow_run_state(self.db, flow_run_id, state, force=force)

    async def read_flow_run(self, flow_run_id: UUID) -> FlowRun:
        return await flow_runs.read_flow_run(self.db, flow_run_id)

    async def read_flow_runs(self, flow_run_filter: FlowRunFilter) -> list[FlowRun]:
        return await flow_runs.read_flow_runs(self.db, flow_run_filter)

    async def count_flow_runs(self, flow_run_filter: FlowRunFilter) -> int:
        return await flow_runs.count_flow_runs(self.db, flow_run_filter)

    async def read_flow_run_states(self, flow_run_id: UUID) -> list[StateSchema]:
        return await flow_runs.read_flow_run_states(self.db, flow_run_id)

    async def read_task_runs(self, task_run_filter: TaskRunFilter) -> list[TaskRun]:
        return await task_runs.read_task_runs(self.db, task_run_filter)

    async def read_task_run_states(self, task_run_id: UUID) -> list[StateSchema]:
        return await task_runs.read_task_run_states(self.db, task_run_id)

    async def read_logs(self, log_filter: LogFilter) -> list[Log]:
        return await logs.read_logs(self.db, log_filter)

    async def create_logs(self, new_logs: list[LogCreate]) -> None:
        await logs.create_logs(self.db, new_logs)

    async def read_flows(self) -> list[Flow]:
        return await flows.read_flows(self.db)

    async def wait_for_flow_run(self, flow_run_id: UUID, timeout_seconds: float) -> FlowRun:
        return await flow_run_waits.wait_for_flow_run(self.db, flow_run_id, timeout_seconds)

    # -- deployments ------------------------------------------------------------------------------
    async def apply_deployment(self, create: DeploymentCreate) -> DeploymentApplied:
        return await deployments.apply_deployment(self.db, create)

    async def read_deployment(self, deployment_id: UUID) -> Deployment:
        return await deployments.read_deployment(self.db, deployment_id)

    async def read_deployment_by_name(self, name: str) -> Deployment:
        return await deployments.read_deployment_by_name(self.db, name)

    async def read_deployments(self, deployment_filter: DeploymentFilter) -> list[Deployment]:
        return await deployments.read_deployments(self.db, deployment_filter)

    async def update_deployment(self, deployment_id: UUID, update: DeploymentUpdate) -> Deployment:
        return await deployments.update_deployment(self.db, deployment_id, update)

    async def delete_deployment(self, deployment_id: UUID) -> None:
        await deployments.delete_deployment(self.db, deployment_id)

    async def create_flow_run_from_deployment(self, deployment_id: UUID, create: DeploymentFlowRunCreate) -> FlowRun:
        return await deployment_runs.create_flow_run_from_deployment(self.db, deployment_id, create)

    # -- work pools, queues, workers --------------------------------------------------------------
    async def create_work_pool(self, create: WorkPoolCreate) -> WorkPool:
        return await work_pools.create_work_pool(self.db, create)

    async def read_work_pool(self, name: str) -> WorkPool:
        return await work_pools.read_work_pool(self.db, name)

    async def read_work_pools(self) -> list[WorkPool]:
        return await work_pools.read_work_pools(self.db)

    async def update_work_pool(self, name: str, update: WorkPoolUpdate) -> WorkPool:
        return await work_pools.update_work_pool(self.db, name, update)

    async def delete_work_pool(self, name: str) -> None:
        await work_pools.delete_work_pool(self.db, name)

    async def create_work_queue(self, work_pool_name: str, create: WorkQueueCreate) -> WorkQueue:
        return await work_pools.create_work_queue(self.db, work_pool_name, create)

    async def read_work_queues(self, work_pool_name: str) -> list[WorkQueue]:
        return await work_pools.read_work_queues(self.db, work_pool_name)

    async def update_work_queue(self, work_pool_name: str, name: str, update: WorkQueueUpdate) -> WorkQueue:
        return await work_pools.update_work_queue(self.db, work_pool_name, name, update)

    async def worker_heartbeat(self, work_pool_name: str, heartbeat: WorkerHeartbeat) -> None:
        await workers.worker_heartbeat(self.db, work_pool_name, heartbeat)

    async def read_workers(self, work_pool_name: str) -> list[Worker]:
        return await workers.read_workers(self.db, work_pool_name)

    async def get_scheduled_flow_runs(
        self, work_pool_name: str, request: GetScheduledFlowRuns
    ) -> list[WorkerFlowRunResponse]:
        return await scheduled_runs.get_scheduled_flow_runs(self.db, work_pool_name, request)

    async def aclose(self) -> None:
        await self.db.close()
