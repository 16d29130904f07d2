"""The embedded orchestrator: the server's services called in this process, on the SDK's portal loop.

This is a composition root (it may import both stacks). With no API URL configured, runs are recorded
straight into the store (SQLite at `$HEADWATER_HOME/headwater.db` by default) through the same service
functions the HTTP API calls.
"""

from __future__ import annotations

from uuid import UUID

from headwater.schemas.actions import FlowRunCreate, LogCreate, RecordBatch
from headwater.schemas.filters import FlowRunFilter, LogFilter, TaskRunFilter
from headwater.schemas.objects import Flow, FlowRun, Log, TaskRun
from headwater.schemas.responses import OrchestrationResult
from headwater.schemas.states import StateCreate, StateSchema
from headwater.server.services import flow_runs, flows, logs, records, task_runs
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

    async def aclose(self) -> None:
        await self.db.close()
