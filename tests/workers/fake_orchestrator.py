"""An in-memory orchestrator with just what a worker uses, and a worker whose "engine" is a Python snippet
(the run's `script` parameter): fast, exact tests of the worker loop with real processes and no server.

The fake long-polls like the server (an event wakes waiting polls when a run is created), applies a
small transition table, and can be told to answer REJECT or WAIT to a claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any
from uuid import UUID, uuid4

from headwater.core.states import StateType, is_terminal
from headwater.exceptions import ObjectNotFound
from headwater.schemas._base import now_utc
from headwater.schemas.deployments import Deployment
from headwater.schemas.filters import FlowRunFilter
from headwater.schemas.objects import FlowRun
from headwater.schemas.responses import OrchestrationResult, SetStateStatus
from headwater.schemas.states import StateCreate, StateSchema
from headwater.schemas.work_pools import (
    GetScheduledFlowRuns,
    WorkerFlowRunResponse,
    WorkerHeartbeat,
    WorkPool,
    WorkPoolCreate,
    WorkQueue,
    WorkQueueCreate,
)
from headwater.workers.base import BaseWorker
from headwater.workers.process import ProcessInfrastructure


class FakeOrchestrator:
    """Runs, one pool and its queues, in memory."""

    def __init__(self) -> None:
        self.runs: dict[UUID, FlowRun] = {}
        self.history: dict[UUID, list[StateSchema]] = {}
        self.pools: dict[str, WorkPool] = {}
        self.queues: dict[str, list[WorkQueue]] = {}
        self.heartbeats: list[str] = []
        self.claim_answers: dict[UUID, list[OrchestrationResult]] = {}
        """Answers to give to the next PENDING proposals of a run, before the normal rules."""
        self.polls = 0
        self._changed = asyncio.Event()
        self.closed = False

    # -- set-up by tests ----------------------------------------------------------------------------
    def add_run(self, pool: str, script: str, name: str | None = None) -> FlowRun:
        """A SCHEDULED run of `pool` whose process runs `script`."""
        run_id = uuid4()
        run = FlowRun(
            id=run_id,
            name=name or f"run-{len(self.runs)}",
            flow_id=uuid4(),
            parameters={"script": script},
            work_pool_name=pool,
            expected_start_time=now_utc(),
        )
        self.runs[run_id] = run
        self.history[run_id] = []
        self._apply(run_id, StateCreate(type=StateType.SCHEDULED))
        return self.runs[run_id]

    def states(self, run_id: UUID) -> list[StateType]:
        """The types of the run's states, oldest first."""
        return [state.type for state in self.history[run_id]]

    def force(self, run_id: UUID, state_type: StateType) -> None:
        """Set a state without rules (as a person would through the CLI)."""
        self._apply(run_id, StateCreate(type=state_type))

    # -- Orchestrator ---------------------------------------------------------------------------------
    async def read_work_pool(self, name: str) -> WorkPool:
        if name not in self.pools:
            raise ObjectNotFound(f"No work pool named {name!r}.")
        return self.pools[name]

    async def create_work_pool(self, create: WorkPoolCreate) -> WorkPool:
        pool = WorkPool(id=uuid4(), **create.model_dump())
        self.pools[pool.name] = pool
        self.queues[pool.name] = [WorkQueue(id=uuid4(), name="default", work_pool_id=pool.id, work_pool_name=pool.name)]
        return pool

    async def read_work_queues(self, work_pool_name: str) -> list[WorkQueue]:
        return list(self.queues[work_pool_name])

    async def create_work_queue(self, work_pool_name: str, create: WorkQueueCreate) -> WorkQueue:
        pool = self.pools[work_pool_name]
        queue = WorkQueue(id=uuid4(), work_pool_id=pool.id, work_pool_name=pool.name, **create.model_dump())
        self.queues[work_pool_name].append(queue)
        return queue

    async def worker_heartbeat(self, work_pool_name: str, heartbeat: WorkerHeartbeat) -> None:
        self.heartbeats.append(heartbeat.name)

    async def get_scheduled_flow_runs(
        self, work_pool_name: str, request: GetScheduledFlowRuns
    ) -> list[WorkerFlowRunResponse]:
        self.polls += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + request.wait_seconds
        while True:
            due = [r for r in self.runs.values() if r.work_pool_name == work_pool_name]
            due = [r for r in due if r.state_type is StateType.SCHEDULED][: request.limit]
            if due or loop.time() >= deadline:
                pool_id = self.pools[work_pool_name].id
                return [WorkerFlowRunResponse(work_pool_id=pool_id, work_queue_id=uuid4(), flow_run=r) for r in due]
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), deadline - loop.time())

    async def set_flow_run_state(
        self, flow_run_id: UUID, state: StateCreate, force: bool = False
    ) -> OrchestrationResult:
        run = self.runs[flow_run_id]
        queued = self.claim_answers.get(flow_run_id)
        if state.type is StateType.PENDING and queued:
            return queued.pop(0)
        current = run.state_type
        refused = (
            (state.type is StateType.PENDING and current is not StateType.SCHEDULED)
            or (is_terminal(current) and state.type is not StateType.SCHEDULED)
            or (current is StateType.CANCELLING and state.type not in (StateType.CANCELLED, StateType.CRASHED))
        )
        if refused and not force:
            reason = f"{current} → {state.type}"
            return OrchestrationResult(status=SetStateStatus.REJECT, state=run.state, reason=reason)
        return OrchestrationResult(status=SetStateStatus.ACCEPT, state=self._apply(flow_run_id, state))

    async def read_flow_run(self, flow_run_id: UUID) -> FlowRun:
        return self.runs[flow_run_id]

    async def read_flow_runs(self, flow_run_filter: FlowRunFilter) -> list[FlowRun]:
        runs = list(self.runs.values())
        if flow_run_filter.id is not None:
            runs = [r for r in runs if r.id in flow_run_filter.id]
        if flow_run_filter.state_type is not None:
            runs = [r for r in runs if r.state_type in flow_run_filter.state_type]
        return runs

    async def read_deployment(self, deployment_id: UUID) -> Deployment:
        raise ObjectNotFound(f"No deployment with id {deployment_id}.")

    async def aclose(self) -> None:
        self.closed = True

    # -- internals ------------------------------------------------------------------------------------
    def _apply(self, run_id: UUID, state: StateCreate) -> StateSchema:
        stored = StateSchema(**{**state.model_dump(), "name": state.name or state.type.value.capitalize()})
        self.history[run_id].append(stored)
        self.runs[run_id] = self.runs[run_id].model_copy(
            update={"state": stored, "state_type": stored.type, "state_name": stored.name}
        )
        self._changed.set()
        return stored


class ScriptWorker(BaseWorker):
    """A worker whose run processes are `python -c <the run's script>`; exit 0 completes the run (standing
    in for the engine, which records RUNNING and the final state itself)."""

    type = "process"

    def __init__(self, fake: FakeOrchestrator, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fake = fake
        self.pids: list[int] = []

    async def start_infrastructure(self, flow_run: FlowRun, deployment: Deployment | None) -> ProcessInfrastructure:
        self.fake.force(flow_run.id, StateType.RUNNING)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            flow_run.parameters["script"],
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        self.pids.append(process.pid)
        return _CompletingInfrastructure(process, self.fake, flow_run.id)


class _CompletingInfrastructure(ProcessInfrastructure):
    def __init__(self, process: asyncio.subprocess.Process, fake: FakeOrchestrator, run_id: UUID) -> None:
        super().__init__(process, prefix=f"{fake.runs[run_id].name} | ")
        self.fake = fake
        self.run_id = run_id

    async def wait(self) -> Any:
        status = await super().wait()
        if status.ok and self.fake.runs[self.run_id].state_type is StateType.RUNNING:
            self.fake.force(self.run_id, StateType.COMPLETED)
        return status
