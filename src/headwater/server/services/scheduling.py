"""Deployment schedules at work: creating the upcoming runs of every active schedule, and marking runs
that are late. The server's loops (`loops.scheduler`, `loops.late_runs`) call these."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import sqlalchemy as sa

from headwater.core.states import StateType
from headwater.exceptions import ObjectNotFound
from headwater.schemas._base import now_utc
from headwater.schemas.deployments import ScheduleSpec
from headwater.schemas.responses import SetStateStatus
from headwater.server.services import notifications
from headwater.server.services._schedules import due_times
from headwater.server.services.deployment_runs import NewDeploymentRun, insert_deployment_runs, scheduled_state
from headwater.server.services.deployments import deployment_row
from headwater.server.services.orchestration.policy import FLOW_RUN_FOLLOW_UPS, FLOW_RUN_POLICY
from headwater.server.services.orchestration.rules import ALL_STATES, Decision, OrchestrationRule, TransitionContext
from headwater.server.services.orchestration.transitions import set_run_state
from headwater.server.storage.database import Database
from headwater.server.storage.tables import deployment_schedules, deployments, flow_runs

_log = logging.getLogger("headwater.server.scheduling")

LATE = "Late"


@dataclass(frozen=True)
class Lookahead:
    """How far ahead the scheduler creates runs: up to `max_runs` per schedule within `horizon`, and at
    least `min_runs` however far away they are."""

    max_runs: int = 3
    min_runs: int = 1
    horizon: timedelta = timedelta(hours=1)


def idempotency_key(deployment_id: UUID, due: datetime) -> str:
    """The key of the scheduled run of a deployment at `due`: the scheduler creates each one once."""
    return f"scheduled {deployment_id} {due.isoformat()}"


async def schedule_deployments(db: Database, lookahead: Lookahead = Lookahead(), now: datetime | None = None) -> int:
    """Create the upcoming runs of every active schedule of every unpaused deployment (each run once,
    however often this is called); returns how many runs were created."""
    now = now or now_utc()
    query = (
        sa.select(deployment_schedules.c.deployment_id, deployment_schedules.c.schedule, deployment_schedules.c.created)
        .join(deployments, deployments.c.id == deployment_schedules.c.deployment_id)
        .where(deployment_schedules.c.active.is_(True), deployments.c.paused.is_(False))
    )
    async with db.read() as conn:
        rows = list(await conn.execute(query))
    due: dict[UUID, set[datetime]] = defaultdict(set)
    for deployment_id, schedule, created in rows:
        try:
            due[deployment_id].update(_upcoming(ScheduleSpec.model_validate(schedule), created, now, lookahead))
        except ValueError as exc:  # checked when applied; only a store written by other means gets here
            _log.warning("Skipping a schedule of deployment %s: %s", deployment_id, exc)
    created_count = 0
    for deployment_id, times in due.items():
        created_count += await _create_scheduled_runs(db, deployment_id, sorted(times))
    return created_count


def _upcoming(spec: ScheduleSpec, created: datetime, now: datetime, lookahead: Lookahead) -> list[datetime]:
    times = due_times(spec, created=created, after=now, count=max(lookahead.max_runs, lookahead.min_runs))
    within = [t for t in times if t <= now + lookahead.horizon][: lookahead.max_runs]
    return within if len(within) >= lookahead.min_runs else times[: lookahead.min_runs]


async def _create_scheduled_runs(db: Database, deployment_id: UUID, times: list[datetime]) -> int:
    async with db.write() as conn:
        try:
            # Locked: a pause committing meanwhile either comes first (and is seen here) or deletes these runs.
            deployment = await deployment_row(conn, deployment_id, for_update=True)
        except ObjectNotFound:
            return 0  # deleted since it was read
        if deployment["paused"]:
            return 0
        runs = [
            NewDeploymentRun(
                state=scheduled_state(due),
                parameters=dict(deployment["parameters"]),
                tags=list(deployment["tags"]),
                work_queue_id=deployment["work_queue_id"],
                idempotency_key=idempotency_key(deployment_id, due),
                auto_scheduled=True,
            )
            for due in times
        ]
        inserted = await insert_deployment_runs(conn, deployment, runs)
    if inserted and deployment["work_pool_name"] is not None:
        notifications.notify(notifications.work_pool_topic(deployment["work_pool_name"]))
    return len(inserted)


class MarkLateOnlyWhileScheduled(OrchestrationRule):
    """The late-runs loop marks a run `Late` only while it still waits in state `Scheduled`: a run claimed
    (PENDING), cancelled or marked late meanwhile is left alone, since SCHEDULED may follow any of those."""

    FROM_STATES = ALL_STATES
    TO_STATES = frozenset({StateType.SCHEDULED})

    async def decide(self, context: TransitionContext) -> Decision | None:
        initial = context.initial
        if initial is not None and initial.type is StateType.SCHEDULED and initial.name == "Scheduled":
            return None
        return Decision(SetStateStatus.REJECT, f"not marked late: the run is {context.describe(initial)}")


_LATE_POLICY: tuple[type[OrchestrationRule], ...] = (MarkLateOnlyWhileScheduled, *FLOW_RUN_POLICY)


async def mark_late_runs(db: Database, late_after_seconds: float, *, limit: int = 500) -> int:
    """Rename to `Late` the SCHEDULED runs (named `Scheduled`) due more than `late_after_seconds` ago; they
    stay SCHEDULED, at the same time. Returns how many were marked."""
    c = flow_runs.c
    cutoff = now_utc() - timedelta(seconds=late_after_seconds)
    query = (
        sa.select(c.id, c.expected_start_time)
        .where(c.state_type == StateType.SCHEDULED.value, c.state_name == "Scheduled", c.expected_start_time < cutoff)
        .order_by(c.expected_start_time)
        .limit(limit)
    )
    async with db.read() as conn:
        late = list(await conn.execute(query))
    marked = 0
    for run_id, due in late:
        result = await set_run_state(
            db, "flow_run", run_id, scheduled_state(due, name=LATE), policy=_LATE_POLICY, follow_ups=FLOW_RUN_FOLLOW_UPS
        )
        marked += result.status is SetStateStatus.ACCEPT
    return marked
