"""Rules for runs of deployments: paused work waits, and concurrency limits (deployment, pool, queue) hold
when runs start, even when several workers claim runs at the same moment.

Each limit is checked with its owner's row locked (`FOR UPDATE` on PostgreSQL; on SQLite the write
transaction is the only writer already), so two claims for the last slot are decided one after the other.
Rows are always locked in the order run → deployment → pool → queue, so concurrent claims cannot deadlock.
"""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from headwater.core.states import StateType
from headwater.schemas.deployments import CollisionStrategy
from headwater.schemas.states import StateCreate
from headwater.server.services._concurrency import ACTIVE_STATES, active_runs_by
from headwater.server.services.orchestration.rules import (
    ALL_STATES,
    Decision,
    OrchestrationRule,
    TransitionContext,
    abort,
    wait,
)
from headwater.server.storage.tables import deployments, flow_runs, work_pools, work_queues

PAUSED_WAIT_SECONDS = 5.0
"""How long a run of paused work is told to wait before it is proposed again."""
SLOT_WAIT_SECONDS = 1.0
"""How long a run finding no free concurrency slot is told to wait before it is proposed again."""

_STARTING_FROM = ALL_STATES - ACTIVE_STATES
"""A run already PENDING, RUNNING or CANCELLING holds its slot: only runs not yet holding one are checked."""


class WaitWhileWorkIsPaused(OrchestrationRule):
    """A run of a paused deployment, or in a paused work pool or work queue, does not start.

    Proposing PENDING answers WAIT: the run stays SCHEDULED, and starts once everything is resumed.
    Workers are not offered such runs; this guards runs offered just before the pause.
    """

    FROM_STATES = ALL_STATES
    TO_STATES = frozenset({StateType.PENDING})

    async def decide(self, context: TransitionContext) -> Decision | None:
        deployment_id, queue_id = context.run.get("deployment_id"), context.run.get("work_queue_id")
        if deployment_id is not None:
            query = sa.select(deployments.c.name, deployments.c.paused).where(deployments.c.id == deployment_id)
            row = (await context.conn.execute(query)).first()
            if row is not None and row.paused:
                return wait(f"deployment {row.name!r} is paused: resume it to start its runs", PAUSED_WAIT_SECONDS)
        if queue_id is not None:
            where = (
                sa.select(
                    work_queues.c.name.label("queue"),
                    work_queues.c.paused.label("queue_paused"),
                    work_pools.c.name.label("pool"),
                    work_pools.c.paused.label("pool_paused"),
                )
                .join(work_pools, work_pools.c.id == work_queues.c.work_pool_id)
                .where(work_queues.c.id == queue_id)
            )
            found = (await context.conn.execute(where)).mappings().first()
            if found is not None and found["pool_paused"]:
                return wait(f"work pool {found['pool']!r} is paused: resume it to start its runs", PAUSED_WAIT_SECONDS)
            if found is not None and found["queue_paused"]:
                return wait(
                    f"work queue {found['queue']!r} of work pool {found['pool']!r} is paused: resume it to start "
                    "its runs",
                    PAUSED_WAIT_SECONDS,
                )
        return None


class LimitDeploymentConcurrency(OrchestrationRule):
    """A deployment with a concurrency limit runs at most that many runs at once (PENDING, RUNNING or
    CANCELLING). A run that would start beyond it, by the deployment's collision strategy:

    - ENQUEUE: answers WAIT; the run stays SCHEDULED until a slot frees up.
    - CANCEL_NEW: answers ABORT, and the run is recorded CANCELLED, saying why.
    """

    FROM_STATES = _STARTING_FROM
    TO_STATES = frozenset({StateType.PENDING, StateType.RUNNING})

    async def decide(self, context: TransitionContext) -> Decision | None:
        deployment_id: UUID | None = context.run.get("deployment_id")
        if deployment_id is None:
            return None
        query = (
            sa.select(deployments.c.name, deployments.c.concurrency_limit, deployments.c.collision_strategy)
            .where(deployments.c.id == deployment_id)
            .with_for_update()
        )
        row = (await context.conn.execute(query)).first()
        if row is None or row.concurrency_limit is None:
            return None
        column = flow_runs.c.deployment_id
        running = (await active_runs_by(context.conn, column, [deployment_id], excluding=context.run_id)).get(
            deployment_id, 0
        )
        if running < row.concurrency_limit:
            return None
        reason = f"deployment {row.name!r} is at its concurrency limit ({running} of {row.concurrency_limit} running)"
        if row.collision_strategy == CollisionStrategy.CANCEL_NEW.value:
            message = f"Cancelled: {reason}, and its collision strategy is CANCEL_NEW."
            return abort(message, state=StateCreate(type=StateType.CANCELLED, message=message))
        return wait(f"{reason}; the run waits for a free slot (collision strategy ENQUEUE)", SLOT_WAIT_SECONDS)


class LimitWorkPoolConcurrency(OrchestrationRule):
    """A work pool, and each of its queues, with a concurrency limit runs at most that many runs at once.

    Workers are offered no more runs than the limits leave room for; this makes the limits hold when
    several workers claim at the same moment. A run beyond a limit answers WAIT and stays SCHEDULED.
    """

    FROM_STATES = _STARTING_FROM
    TO_STATES = frozenset({StateType.PENDING, StateType.RUNNING})

    async def decide(self, context: TransitionContext) -> Decision | None:
        queue_id: UUID | None = context.run.get("work_queue_id")
        if queue_id is None:
            return None
        conn = context.conn
        pool_id = (
            await conn.execute(sa.select(work_queues.c.work_pool_id).where(work_queues.c.id == queue_id))
        ).scalar_one_or_none()
        if pool_id is None:
            return None
        pool_query = sa.select(work_pools.c.name, work_pools.c.concurrency_limit).where(work_pools.c.id == pool_id)
        pool = (await conn.execute(pool_query.with_for_update())).first()
        queue_query = sa.select(work_queues.c.name, work_queues.c.concurrency_limit).where(work_queues.c.id == queue_id)
        queue = (await conn.execute(queue_query.with_for_update())).first()
        if pool is None or queue is None or (pool.concurrency_limit is None and queue.concurrency_limit is None):
            return None
        pool_queues = sa.select(work_queues.c.id).where(work_queues.c.work_pool_id == pool_id)
        queue_ids = list((await conn.execute(pool_queues)).scalars())
        active = await active_runs_by(conn, flow_runs.c.work_queue_id, queue_ids, excluding=context.run_id)
        in_queue, in_pool = active.get(queue_id, 0), sum(active.values())
        if queue.concurrency_limit is not None and in_queue >= queue.concurrency_limit:
            reason = (
                f"work queue {queue.name!r} of work pool {pool.name!r} is at its concurrency limit "
                f"({in_queue} of {queue.concurrency_limit} running)"
            )
            return wait(reason, SLOT_WAIT_SECONDS)
        if pool.concurrency_limit is not None and in_pool >= pool.concurrency_limit:
            reason = (
                f"work pool {pool.name!r} is at its concurrency limit ({in_pool} of {pool.concurrency_limit} running)"
            )
            return wait(reason, SLOT_WAIT_SECONDS)
        return None
