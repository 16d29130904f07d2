"""Deployments: apply (create or update in place), read by id or by name, list, update, delete.

A deployment is known by its flow and its name. Applying one that exists updates it in place and replaces
its schedules; a work pool it names that does not exist is created as a `process` pool, and its queue
(default `default`) is created in the pool on demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.core.states import StateType
from headwater.exceptions import InvalidInput, ObjectNotFound
from headwater.schemas._base import now_utc
from headwater.schemas.deployments import (
    Deployment,
    DeploymentApplied,
    DeploymentCreate,
    DeploymentFilter,
    DeploymentSchedule,
    DeploymentUpdate,
)
from headwater.schemas.work_pools import DEFAULT_QUEUE, WorkPoolCreate
from headwater.server.services._parameter_schema import parameter_problems
from headwater.server.services._schedules import check_schedule
from headwater.server.services.flows import ensure_flow_ids
from headwater.server.services.work_pools import ensure_work_queue, insert_work_pool
from headwater.server.storage.database import Database, insert_ignore
from headwater.server.storage.tables import (
    deployment_schedules,
    deployments,
    flow_run_states,
    flow_runs,
    flows,
    work_pools,
    work_queues,
)

_COPIED_FIELDS = (
    "version",
    "description",
    "entrypoint",
    "path",
    "source",
    "parameters",
    "parameter_openapi_schema",
    "enforce_parameter_schema",
    "tags",
    "paused",
    "concurrency_limit",
    "collision_strategy",
)
"""Fields of `DeploymentCreate` stored as they are."""


async def apply_deployment(db: Database, create: DeploymentCreate) -> DeploymentApplied:
    """Create a deployment, or update the one of this flow with this name in place (schedules replaced).

    Raises:
        InvalidInput: A schedule is invalid, a default parameter does not fit the parameter schema, or a
            queue is named without a pool.
    """
    now = now_utc()
    for position, schedule in enumerate(create.schedules):
        check_schedule(schedule.schedule, position, now)
    if create.enforce_parameter_schema:
        problems = parameter_problems(create.parameters, create.parameter_openapi_schema, partial=True)
        if problems:
            raise InvalidInput(
                f"Invalid default parameters for deployment {create.flow_name}/{create.name}: {'; '.join(problems)}"
            )
    async with db.write() as conn:
        flow_id = (await ensure_flow_ids(conn, [create.flow_name]))[create.flow_name]
        queue_id, pool_created = await _resolve_queue(conn, create)
        values: dict[str, Any] = {field: getattr(create, field) for field in _COPIED_FIELDS}
        values.update(work_queue_id=queue_id, updated=now)
        existing = await _row_by_flow_and_name(conn, flow_id, create.name)
        if existing is None:
            new_id = uuid4()
            row = {"id": new_id, "name": create.name, "flow_id": flow_id, "created": now, **values}
            # Ignoring a clash: another writer may apply the same deployment meanwhile; then it is updated.
            await conn.execute(insert_ignore(conn.dialect.name, deployments), row)
            existing = await _row_by_flow_and_name(conn, flow_id, create.name)
            assert existing is not None
            created = existing["id"] == new_id
        else:
            created = False
        deployment_id: UUID = existing["id"]
        if created:
            await _insert_schedules(conn, deployment_id, create, now)
        else:
            await conn.execute(sa.update(deployments).where(deployments.c.id == deployment_id).values(**values))
            if await _replace_schedules(conn, deployment_id, create, now) or (create.paused and not existing["paused"]):
                # Runs made from the old schedules (or for a deployment now paused) must not run.
                await delete_unstarted_runs(conn, deployment_id, auto_scheduled_only=True)
        deployment = await _read(conn, deployment_id)
    return DeploymentApplied(deployment=deployment, created=created, work_pool_created=pool_created)


async def _resolve_queue(conn: AsyncConnection, create: DeploymentCreate) -> tuple[UUID | None, bool]:
    """The deployment's queue id (None without a pool), and whether its pool had to be created."""
    if create.work_pool_name is None:
        if create.work_queue_name is not None:
            raise InvalidInput(
                f"Deployment {create.flow_name}/{create.name} names work queue {create.work_queue_name!r} but no "
                "work pool: give work_pool_name too."
            )
        return None, False
    query = sa.select(work_pools.c.id).where(work_pools.c.name == create.work_pool_name)
    pool_id: UUID | None = (await conn.execute(query)).scalar_one_or_none()
    pool_created = False
    if pool_id is None:
        pool_id = await insert_work_pool(conn, WorkPoolCreate(name=create.work_pool_name, type="process"))
        pool_created = pool_id is not None
        if pool_id is None:  # created by another writer meanwhile
            pool_id = (await conn.execute(query)).scalar_one()
    return await ensure_work_queue(conn, pool_id, create.work_queue_name or DEFAULT_QUEUE), pool_created


async def _insert_schedules(conn: AsyncConnection, deployment_id: UUID, create: DeploymentCreate, now: Any) -> None:
    rows = [
        {
            "id": uuid4(),
            "deployment_id": deployment_id,
            "schedule": schedule.schedule.model_dump(mode="json"),
            "active": schedule.active,
            "position": position,
            "created": now,
            "updated": now,
        }
        for position, schedule in enumerate(create.schedules)
    ]
    if rows:
        await conn.execute(sa.insert(deployment_schedules), rows)


async def _replace_schedules(conn: AsyncConnection, deployment_id: UUID, create: DeploymentCreate, now: Any) -> bool:
    """Replace the schedules when they changed; returns whether they did. Unchanged schedules keep their
    rows (and creation time, from which an interval without anchor counts)."""
    stored = await _schedules_of(conn, [deployment_id])
    old = [(s.schedule.model_dump(mode="json"), s.active) for s in stored.get(deployment_id, [])]
    new = [(s.schedule.model_dump(mode="json"), s.active) for s in create.schedules]
    if old == new:
        return False
    await conn.execute(sa.delete(deployment_schedules).where(deployment_schedules.c.deployment_id == deployment_id))
    await _insert_schedules(conn, deployment_id, create, now)
    return True


async def delete_unstarted_runs(conn: AsyncConnection, deployment_id: UUID, *, auto_scheduled_only: bool) -> int:
    """Delete a deployment's runs that are SCHEDULED and never started (with their states); returns how many.

    Runs waiting to be retried (SCHEDULED after they ran) are kept: they have a history worth keeping.
    """
    conditions = [
        flow_runs.c.deployment_id == deployment_id,
        flow_runs.c.state_type == StateType.SCHEDULED.value,
        flow_runs.c.start_time.is_(None),
    ]
    if auto_scheduled_only:
        conditions.append(flow_runs.c.auto_scheduled.is_(True))
    ids = list((await conn.execute(sa.select(flow_runs.c.id).where(*conditions))).scalars())
    if ids:
        await conn.execute(sa.delete(flow_run_states).where(flow_run_states.c.flow_run_id.in_(ids)))
        await conn.execute(sa.delete(flow_runs).where(flow_runs.c.id.in_(ids)))
    return len(ids)


async def read_deployment(db: Database, deployment_id: UUID) -> Deployment:
    """One deployment.

    Raises:
        ObjectNotFound: No deployment has this id.
    """
    async with db.read() as conn:
        return await _read(conn, deployment_id)


async def read_deployment_by_name(db: Database, name: str) -> Deployment:
    """A deployment by `flow-name/deployment-name`.

    Raises:
        InvalidInput: The name has no `/`.
        ObjectNotFound: No such flow, or no such deployment of it (the message lists the flow's deployments).
    """
    flow_name, slash, deployment_name = name.partition("/")
    if not slash:
        raise InvalidInput(f"Deployment name {name!r} must be 'flow-name/deployment-name'.")
    async with db.read() as conn:
        flow_id = (await conn.execute(sa.select(flows.c.id).where(flows.c.name == flow_name))).scalar_one_or_none()
        if flow_id is None:
            raise ObjectNotFound(f"No flow named {flow_name!r}, so no deployment named {name!r}.")
        row = await _row_by_flow_and_name(conn, flow_id, deployment_name)
        if row is None:
            query = sa.select(deployments.c.name).where(deployments.c.flow_id == flow_id).order_by(deployments.c.name)
            names = list((await conn.execute(query)).scalars())
            raise ObjectNotFound(
                f"No deployment named {name!r}. Deployments of flow {flow_name!r}: {', '.join(names) or 'none'}."
            )
        return await _read(conn, row["id"])


async def read_deployments(db: Database, deployment_filter: DeploymentFilter) -> list[Deployment]:
    """Deployments matching a filter, by flow name then name, one page of them."""
    f = deployment_filter
    conditions: list[sa.ColumnElement[bool]] = []
    if f.flow_name is not None:
        conditions.append(flows.c.name.in_(f.flow_name))
    if f.name is not None:
        conditions.append(deployments.c.name.in_(f.name))
    if f.work_pool_name is not None:
        conditions.append(work_pools.c.name.in_(f.work_pool_name))
    if f.paused is not None:
        conditions.append(deployments.c.paused == f.paused)
    query = (
        _select_deployments()
        .where(*conditions)
        .order_by(flows.c.name, deployments.c.name)
        .limit(f.limit)
        .offset(f.offset)
    )
    async with db.read() as conn:
        rows = (await conn.execute(query)).mappings().all()
        schedules = await _schedules_of(conn, [row["id"] for row in rows])
    return [_to_deployment(row, schedules.get(row["id"], [])) for row in rows]


async def update_deployment(db: Database, deployment_id: UUID, update: DeploymentUpdate) -> Deployment:
    """Change the fields given (a `concurrency_limit` given as None removes the limit). Pausing deletes the
    deployment's auto-scheduled runs that have not started, and the scheduler makes no more until resumed.

    Raises:
        ObjectNotFound: No deployment has this id.
    """
    async with db.write() as conn:
        before = await _read(conn, deployment_id)
        nullable = {"description", "concurrency_limit"}
        values = {
            field: getattr(update, field)
            for field in update.model_fields_set
            if getattr(update, field) is not None or field in nullable
        }
        if values:
            values["updated"] = now_utc()
            await conn.execute(sa.update(deployments).where(deployments.c.id == deployment_id).values(**values))
        if values.get("paused") and not before.paused:
            await delete_unstarted_runs(conn, deployment_id, auto_scheduled_only=True)
        return await _read(conn, deployment_id)


async def delete_deployment(db: Database, deployment_id: UUID) -> None:
    """Delete a deployment and its schedules, and its runs that are scheduled and have not started (nobody
    could run them any more). Runs that started stay, still naming the deployment's id.

    Raises:
        ObjectNotFound: No deployment has this id.
    """
    async with db.write() as conn:
        await deployment_row(conn, deployment_id)
        await delete_unstarted_runs(conn, deployment_id, auto_scheduled_only=False)
        await conn.execute(sa.delete(deployment_schedules).where(deployment_schedules.c.deployment_id == deployment_id))
        await conn.execute(sa.delete(deployments).where(deployments.c.id == deployment_id))


async def deployment_row(conn: AsyncConnection, deployment_id: UUID, *, for_update: bool = False) -> RowMapping:
    """A deployment's row joined with its flow, queue and pool names.

    Raises:
        ObjectNotFound: No deployment has this id.
    """
    query = _select_deployments().where(deployments.c.id == deployment_id)
    if for_update:
        query = query.with_for_update(of=deployments)
    row: RowMapping | None = (await conn.execute(query)).mappings().first()
    if row is None:
        raise ObjectNotFound(f"No deployment with id {deployment_id}.")
    return row


async def _row_by_flow_and_name(conn: AsyncConnection, flow_id: UUID, name: str) -> RowMapping | None:
    query = sa.select(deployments).where(deployments.c.flow_id == flow_id, deployments.c.name == name)
    return (await conn.execute(query)).mappings().first()


def _select_deployments() -> sa.Select[Any]:
    return (
        sa.select(
            deployments,
            flows.c.name.label("flow_name"),
            work_queues.c.name.label("work_queue_name"),
            work_pools.c.name.label("work_pool_name"),
            work_pools.c.id.label("work_pool_id"),
        )
        .select_from(deployments)
        .join(flows, flows.c.id == deployments.c.flow_id)
        .outerjoin(work_queues, work_queues.c.id == deployments.c.work_queue_id)
        .outerjoin(work_pools, work_pools.c.id == work_queues.c.work_pool_id)
    )


async def _read(conn: AsyncConnection, deployment_id: UUID) -> Deployment:
    row = await deployment_row(conn, deployment_id)
    schedules = await _schedules_of(conn, [deployment_id])
    return _to_deployment(row, schedules.get(deployment_id, []))


async def _schedules_of(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, list[DeploymentSchedule]]:
    if not ids:
        return {}
    query = (
        sa.select(deployment_schedules)
        .where(deployment_schedules.c.deployment_id.in_(list(ids)))
        .order_by(deployment_schedules.c.deployment_id, deployment_schedules.c.position)
    )
    result: dict[UUID, list[DeploymentSchedule]] = {}
    for row in (await conn.execute(query)).mappings():
        schedule = DeploymentSchedule.model_validate(
            {key: row[key] for key in ("id", "created", "updated", "schedule", "active")}
        )
        result.setdefault(row["deployment_id"], []).append(schedule)
    return result


def _to_deployment(row: RowMapping, schedules: list[DeploymentSchedule]) -> Deployment:
    values = dict(row)
    del values["work_pool_id"]
    return Deployment.model_validate({**values, "schedules": schedules})
