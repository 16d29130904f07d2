"""Flows, flow runs, task runs and their states."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, Request, status

from headwater.schemas.actions import FlowRunCreate
from headwater.schemas.filters import FlowRunFilter, TaskRunFilter
from headwater.schemas.objects import Flow, FlowRun, TaskRun
from headwater.schemas.responses import OrchestrationResult
from headwater.schemas.states import StateCreate, StateSchema
from headwater.server.api.dependencies import get_db, unless_disconnected
from headwater.server.services import flow_run_waits, flow_runs, flows, task_runs
from headwater.server.services.orchestration import set_flow_run_state
from headwater.server.storage.database import Database

router = APIRouter()
Db = Annotated[Database, Depends(get_db)]


@router.post("/flows/filter", tags=["flows"])
async def filter_flows(db: Db) -> list[Flow]:
    """All flows, by name."""
    return await flows.read_flows(db)


@router.get("/flows/{flow_id}", tags=["flows"])
async def read_flow(flow_id: UUID, db: Db) -> Flow:
    """One flow."""
    return await flows.read_flow(db, flow_id)


@router.post("/flow_runs/", status_code=status.HTTP_201_CREATED, tags=["flow runs"])
async def create_flow_run(create: FlowRunCreate, db: Db) -> FlowRun:
    """Create a flow run (and its flow, when new). Creating the same id again returns the stored run."""
    return await flow_runs.create_flow_run(db, create)


@router.get("/flow_runs/{flow_run_id}", tags=["flow runs"])
async def read_flow_run(flow_run_id: UUID, db: Db) -> FlowRun:
    """One flow run."""
    return await flow_runs.read_flow_run(db, flow_run_id)


MAX_WAIT_SECONDS = 300.0
"""The longest one wait request is held; clients wait longer by asking again."""


@router.get("/flow_runs/{flow_run_id}/wait", tags=["flow runs"])
async def wait_for_flow_run(
    flow_run_id: UUID, db: Db, request: Request, timeout: Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS)] = 30.0
) -> FlowRun:
    """The flow run as soon as it is final, or as it is after `timeout` seconds (long-poll; no database
    connection is held while waiting)."""
    return await unless_disconnected(
        request,
        flow_run_waits.wait_for_flow_run(db, flow_run_id, timeout),
        lambda: flow_runs.read_flow_run(db, flow_run_id),
    )


@router.post("/flow_runs/filter", tags=["flow runs"])
async def filter_flow_runs(db: Db, flow_runs_filter: FlowRunFilter | None = None) -> list[FlowRun]:
    """Flow runs matching a filter, sorted and paginated."""
    return await flow_runs.read_flow_runs(db, flow_runs_filter or FlowRunFilter())


@router.post("/flow_runs/count", tags=["flow runs"])
async def count_flow_runs(db: Db, flow_runs_filter: FlowRunFilter | None = None) -> int:
    """How many flow runs match a filter."""
    return await flow_runs.count_flow_runs(db, flow_runs_filter or FlowRunFilter())


@router.post("/flow_runs/{flow_run_id}/set_state", tags=["flow runs"])
async def propose_flow_run_state(
    flow_run_id: UUID,
    db: Db,
    state: Annotated[StateCreate, Body(embed=True)],
    force: Annotated[bool, Body(embed=True)] = False,
) -> OrchestrationResult:
    """Propose a state; the orchestration rules answer ACCEPT, REJECT, WAIT or ABORT, with a reason."""
    return await set_flow_run_state(db, flow_run_id, state, force=force)


@router.delete("/flow_runs/{flow_run_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["flow runs"])
async def delete_flow_run(flow_run_id: UUID, db: Db) -> None:
    """Delete a flow run with its states, task runs and logs."""
    await flow_runs.delete_flow_run(db, flow_run_id)


@router.get("/flow_run_states/", tags=["flow runs"])
async def read_flow_run_states(flow_run_id: Annotated[UUID, Query()], db: Db) -> list[StateSchema]:
    """A flow run's state history, oldest first."""
    return await flow_runs.read_flow_run_states(db, flow_run_id)


@router.get("/task_runs/{task_run_id}", tags=["task runs"])
async def read_task_run(task_run_id: UUID, db: Db) -> TaskRun:
    """One task run."""
    return await task_runs.read_task_run(db, task_run_id)


@router.post("/task_runs/filter", tags=["task runs"])
async def filter_task_runs(db: Db, task_runs_filter: TaskRunFilter | None = None) -> list[TaskRun]:
    """Task runs matching a filter, oldest first."""
    return await task_runs.read_task_runs(db, task_runs_filter or TaskRunFilter())


@router.get("/task_run_states/", tags=["task runs"])
async def read_task_run_states(task_run_id: Annotated[UUID, Query()], db: Db) -> list[StateSchema]:
    """A task run's state history, oldest first."""
    return await task_runs.read_task_run_states(db, task_run_id)
