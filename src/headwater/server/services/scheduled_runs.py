"""What a worker polls for: the due SCHEDULED runs of its pool, within every concurrency limit, by queue
priority then due time; held open (long-poll) until one is due or the wait is over.

The worker then claims each run by proposing PENDING; the orchestration rules decide the claim under lock,
so two workers offered the same run cannot both get it (the second is rejected: PENDING → PENDING).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.core.states import StateType
from headwater.schemas._base import now_utc
from headwater.schemas.deployments import CollisionStrategy
from headwater.schemas.work_pools import GetScheduledFlowRuns, WorkerFlowRunResponse
from headwater.server.services import notifications
from headwater.server.services._concurrency import active_runs_by, free_slots
from headwater.server.services._flow_run_queries import select_flow_runs
from headwater.server.services._runs import flow_run_from_row
from headwater.server.services.work_pools import pool_row
from headwater.server.services.workers import record_heartbeat
from headwater.server.storage.database import Database
from headwater.server.storage.tables import deployments, flow_runs, work_queues

REQUERY_SECONDS = 0.25
"""While long-polling, how often the store is asked again: runs created by other processes (or coming
due) are only found this way; runs created in this process wake the poll at once."""


async def get_scheduled_flow_runs(
    db: Database, work_pool_name: str, request: GetScheduledFlowRuns
) -> list[WorkerFlowRunResponse]:
    """Due runs of a pool for a worker: SCHEDULED runs of its (unpaused, or the requested) queues due by
    `request.scheduled_before` (default now), highest-priority queue first, then earliest; no more than
    the pool's, each queue's and each deployment's concurrency limits leave room for; none from a paused
    pool or of a paused deployment.

    With `request.wait_seconds`, waits up to that long for a run to come due. No database connection is
    held while waiting.

    Raises:
        ObjectNotFound: No pool has this name.
    """
    deadline = time.monotonic() + request.wait_seconds
    if request.worker_name is not None:
        async with db.write() as conn:
            pool_id = (await pool_row(conn, work_pool_name))["id"]
            await record_heartbeat(conn, pool_id, request.worker_name, None)
    async with notifications.listen(notifications.work_pool_topic(work_pool_name)) as listener:
        while True:
            before = request.scheduled_before or now_utc()
            async with db.read() as conn:
                runs, queue_ids = await _due_runs(conn, work_pool_name, request, before)
            remaining = deadline - time.monotonic()
            if runs or remaining <= 0:
                return runs
            # A run of one of these queues changing state may free a concurrency slot.
            listener.add(*(notifications.work_queue_topic(queue_id) for queue_id in queue_ids))
            await listener.wait(min(REQUERY_SECONDS, remaining))


async def _due_runs(
    conn: AsyncConnection, work_pool_name: str, request: GetScheduledFlowRuns, before: datetime
) -> tuple[list[WorkerFlowRunResponse], list[UUID]]:
    """The runs to hand out now, and the ids of the pool's queues."""
    pool = await pool_row(conn, work_pool_name)
    query = sa.select(work_queues).where(work_queues.c.work_pool_id == pool["id"])
    queues = list((await conn.execute(query)).mappings())
    all_ids = [queue["id"] for queue in queues]
    if pool["paused"]:
        return [], all_ids
    wanted = set(request.work_queue_names) if request.work_queue_names is not None else None
    active = await active_runs_by(conn, flow_runs.c.work_queue_id, all_ids)
    pool_free = free_slots(pool["concurrency_limit"], sum(active.values()))
    queue_free: dict[UUID, int | None] = {}
    for queue in queues:
        if queue["paused"] or (wanted is not None and queue["name"] not in wanted):
            continue
        free = free_slots(queue["concurrency_limit"], active.get(queue["id"], 0))
        if free != 0:
            queue_free[queue["id"]] = free
    limit = request.limit if pool_free is None else min(request.limit, pool_free)
    if not queue_free or limit == 0:
        return [], all_ids
    priorities = {queue["id"]: queue["priority"] for queue in queues}
    ids = await _pick(conn, queue_free, priorities, before, limit)
    if not ids:
        return [], all_ids
    rows = {row.id: row for row in await conn.execute(select_flow_runs().where(flow_runs.c.id.in_(ids)))}
    responses = [
        WorkerFlowRunResponse(
            work_pool_id=pool["id"], work_queue_id=rows[run_id].work_queue_id, flow_run=flow_run_from_row(rows[run_id])
        )
        for run_id in ids
        if run_id in rows
    ]
    return responses, all_ids


async def _pick(
    conn: AsyncConnection,
    queue_free: dict[UUID, int | None],
    priorities: dict[UUID, int],
    before: datetime,
    limit: int,
) -> list[UUID]:
    """The ids of the runs to hand out, in order.

    Each run is ranked within its queue and within its deployment (window functions), and kept only while
    its rank is within the free slots of both, so a long backlog of one limited deployment or queue never
    has to be read past in Python. The two limits are applied independently, so a round may hand out fewer
    runs than it could (never more); the next poll makes up for it.
    """
    limited = await _deployment_free_slots(conn, list(queue_free))
    blocked = [deployment_id for deployment_id, free in limited.items() if free == 0]
    c = flow_runs.c
    priority = sa.case(priorities, value=c.work_queue_id, else_=0)
    conditions: list[sa.ColumnElement[bool]] = [
        c.work_queue_id.in_(list(queue_free)),
        c.state_type == StateType.SCHEDULED.value,
        c.expected_start_time <= before,
        # Runs of paused deployments wait; runs whose deployment is gone are still handed out (and fail
        # loudly on the worker) rather than sit in the queue forever.
        _no_deployment_or(c.deployment_id.not_in(sa.select(deployments.c.id).where(deployments.c.paused.is_(True)))),
    ]
    if blocked:
        conditions.append(_no_deployment_or(c.deployment_id.not_in(blocked)))
    order: list[Any] = [c.expected_start_time, c.id]
    deployment_order = [priority, *order]
    candidates = (
        sa.select(
            c.id,
            c.work_queue_id,
            c.deployment_id,
            priority.label("priority"),
            c.expected_start_time,
            sa.func.row_number().over(partition_by=c.work_queue_id, order_by=order).label("queue_rank"),
            sa.func.row_number().over(partition_by=c.deployment_id, order_by=deployment_order).label("deployment_rank"),
        )
        .where(*conditions)
        .subquery()
    )
    queue_limits = {queue_id: free for queue_id, free in queue_free.items() if free is not None}
    kept: list[sa.ColumnElement[bool]] = []
    if queue_limits:
        queue_cap = sa.case(queue_limits, value=candidates.c.work_queue_id, else_=None)
        kept.append(sa.or_(queue_cap.is_(None), candidates.c.queue_rank <= queue_cap))
    if limited:
        deployment_cap = sa.case(limited, value=candidates.c.deployment_id, else_=None)
        kept.append(sa.or_(deployment_cap.is_(None), candidates.c.deployment_rank <= deployment_cap))
    query = (
        sa.select(candidates.c.id)
        .where(*kept)
        .order_by(candidates.c.priority, candidates.c.expected_start_time, candidates.c.id)
        .limit(limit)
    )
    return list((await conn.execute(query)).scalars())


def _no_deployment_or(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    # `NULL NOT IN (...)` is NULL, which would drop a run without a deployment.
    return sa.or_(flow_runs.c.deployment_id.is_(None), condition)


async def _deployment_free_slots(conn: AsyncConnection, queue_ids: list[UUID]) -> dict[UUID, int]:
    """Free slots of each ENQUEUE deployment with a concurrency limit that has runs in these queues.

    Runs of CANCEL_NEW deployments are handed out even at the limit: claiming one cancels it, as it should.
    """
    c = flow_runs.c
    query = sa.select(deployments.c.id, deployments.c.concurrency_limit).where(
        deployments.c.concurrency_limit.is_not(None),
        deployments.c.collision_strategy == CollisionStrategy.ENQUEUE.value,
        deployments.c.id.in_(
            sa.select(c.deployment_id).where(c.work_queue_id.in_(queue_ids), c.state_type == StateType.SCHEDULED.value)
        ),
    )
    limits: dict[UUID, int] = {deployment_id: limit for deployment_id, limit in await conn.execute(query)}
    active = await active_runs_by(conn, c.deployment_id, list(limits))
    return {deployment_id: max(limit - active.get(deployment_id, 0), 0) for deployment_id, limit in limits.items()}
