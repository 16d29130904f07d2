"""Runs of deployments: created on request (`run_deployment`, the API, automations) or by the scheduler.

A run is created SCHEDULED at its due time in the deployment's queue, where a worker of the pool finds it;
waiting workers are woken at once (`notifications`). Parameters are the deployment's defaults with the
request's merged over them, checked against the deployment's parameter schema when it enforces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.core.names import generate_run_name
from headwater.core.states import StateType
from headwater.exceptions import InvalidInput
from headwater.schemas._base import now_utc
from headwater.schemas.deployments import DeploymentFlowRunCreate
from headwater.schemas.objects import FlowRun
from headwater.schemas.states import StateCreate, StateDetails
from headwater.server.services import notifications
from headwater.server.services._flow_run_queries import select_flow_runs
from headwater.server.services._parameter_schema import parameter_problems
from headwater.server.services._runs import RunProgress, flow_run_from_row, history_row
from headwater.server.services.deployments import deployment_row
from headwater.server.services.flow_runs import INITIAL_STATES
from headwater.server.services.work_pools import ensure_work_queue
from headwater.server.storage.database import Database, insert_ignore
from headwater.server.storage.tables import flow_run_states, flow_runs


@dataclass
class NewDeploymentRun:
    """A run of a deployment to insert."""

    state: StateCreate
    name: str = field(default_factory=generate_run_name)
    parameters: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    work_queue_id: UUID | None = None
    idempotency_key: str | None = None
    parent_task_run_id: UUID | None = None
    auto_scheduled: bool = False
    id: UUID = field(default_factory=uuid4)


def scheduled_state(scheduled_time: datetime, name: str | None = None) -> StateCreate:
    """SCHEDULED at `scheduled_time`."""
    return StateCreate(type=StateType.SCHEDULED, name=name, details=StateDetails(scheduled_time=scheduled_time))


async def create_flow_run_from_deployment(
    db: Database, deployment_id: UUID, create: DeploymentFlowRunCreate
) -> FlowRun:
    """Create a run of a deployment, SCHEDULED at `create.scheduled_time` (default now) unless another
    initial state is given, and wake the workers polling its pool.

    With an `idempotency_key`, a second request with the same key for the same deployment creates
    nothing and returns the first run.

    Raises:
        ObjectNotFound: No deployment has this id.
        InvalidInput: The parameters do not fit the deployment's parameter schema (each problem is named),
            the initial state is not SCHEDULED, PENDING or RUNNING, or a queue is asked of a deployment
            without a work pool.
    """
    state = _initial_state(create)
    async with db.write() as conn:
        deployment = await deployment_row(conn, deployment_id)
        if create.idempotency_key is not None:
            existing = await _by_idempotency_key(conn, deployment_id, create.idempotency_key)
            if existing is not None:
                return existing
        parameters = {**deployment["parameters"], **create.parameters}
        if deployment["enforce_parameter_schema"]:
            problems = parameter_problems(parameters, deployment["parameter_openapi_schema"])
            if problems:
                full_name = f"{deployment['flow_name']}/{deployment['name']}"
                raise InvalidInput(f"Invalid parameters for deployment {full_name}: {'; '.join(problems)}.")
        run = NewDeploymentRun(
            state=state,
            name=create.name or generate_run_name(),
            parameters=parameters,
            tags=_merged(deployment["tags"], create.tags),
            work_queue_id=await _queue_for(conn, deployment, create.work_queue_name),
            idempotency_key=create.idempotency_key,
            parent_task_run_id=create.parent_task_run_id,
        )
        inserted = await insert_deployment_runs(conn, deployment, [run])
        if not inserted and create.idempotency_key is not None:
            # Another request with the same key won the race (PostgreSQL): its run is the answer.
            existing = await _by_idempotency_key(conn, deployment_id, create.idempotency_key)
            assert existing is not None
            return existing
        flow_run = await _read(conn, run.id)
    if deployment["work_pool_name"] is not None:
        notifications.notify(notifications.work_pool_topic(deployment["work_pool_name"]))
    return flow_run


def _initial_state(create: DeploymentFlowRunCreate) -> StateCreate:
    scheduled_time = create.scheduled_time or now_utc()
    if create.state is None:
        return scheduled_state(scheduled_time)
    if create.state.type not in INITIAL_STATES:
        raise InvalidInput(
            f"a deployment run cannot be created in state {create.state.type.value}; give SCHEDULED, PENDING or "
            "RUNNING (or no state)"
        )
    if create.state.type is StateType.SCHEDULED and create.state.details.scheduled_time is None:
        details = create.state.details.model_copy(update={"scheduled_time": scheduled_time})
        return create.state.model_copy(update={"details": details})
    return create.state


def _merged(first: Sequence[str], second: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


async def _queue_for(conn: AsyncConnection, deployment: RowMapping, queue_name: str | None) -> UUID | None:
    if queue_name is None:
        queue_id: UUID | None = deployment["work_queue_id"]
        return queue_id
    if deployment["work_pool_id"] is None:
        raise InvalidInput(
            f"Deployment {deployment['flow_name']}/{deployment['name']} has no work pool, so its runs cannot "
            f"go to work queue {queue_name!r}: apply it with a work_pool_name first."
        )
    return await ensure_work_queue(conn, deployment["work_pool_id"], queue_name)


async def insert_deployment_runs(
    conn: AsyncConnection, deployment: RowMapping, runs: Sequence[NewDeploymentRun]
) -> list[UUID]:
    """Insert runs of a deployment with their initial states, in the caller's transaction; returns the ids
    inserted. A run whose idempotency key the deployment has used already is skipped."""
    if not runs:
        return []
    now = now_utc()
    rows = []
    for run in runs:
        progress = RunProgress()
        progress.add(run.state)
        rows.append(
            {
                "id": run.id,
                "name": run.name,
                "flow_id": deployment["flow_id"],
                "parent_task_run_id": run.parent_task_run_id,
                "parameters": run.parameters,
                "tags": run.tags,
                "expected_start_time": progress.expected_start_time or now,
                "heartbeat": None,
                "created": now,
                "updated": now,
                "deployment_id": deployment["id"],
                "work_queue_id": run.work_queue_id,
                "idempotency_key": run.idempotency_key,
                "auto_scheduled": run.auto_scheduled,
                **progress.new_run_values(),
            }
        )
    await conn.execute(insert_ignore(conn.dialect.name, flow_runs), rows)
    # The ids are fresh: those stored now are the ones inserted (a clash on the idempotency key skipped the rest).
    by_id = {run.id: run for run in runs}
    query = sa.select(flow_runs.c.id).where(flow_runs.c.id.in_(list(by_id)))
    inserted = list((await conn.execute(query)).scalars())
    if inserted:
        history = [history_row("flow_run_id", run_id, by_id[run_id].state, now) for run_id in inserted]
        await conn.execute(sa.insert(flow_run_states), history)
    return inserted


async def _by_idempotency_key(conn: AsyncConnection, deployment_id: UUID, key: str) -> FlowRun | None:
    query = select_flow_runs().where(flow_runs.c.deployment_id == deployment_id, flow_runs.c.idempotency_key == key)
    row = (await conn.execute(query)).first()
    return None if row is None else flow_run_from_row(row)


async def _read(conn: AsyncConnection, flow_run_id: UUID) -> FlowRun:
    row = (await conn.execute(select_flow_runs().where(flow_runs.c.id == flow_run_id))).first()
    assert row is not None  # inserted in this transaction
    return flow_run_from_row(row)
