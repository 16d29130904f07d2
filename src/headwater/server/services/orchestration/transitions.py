"""Proposing a state to a run: read the run under lock, ask the rules, and record an accepted state."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.core.states import StateType, is_terminal
from headwater.exceptions import ObjectNotFound
from headwater.schemas._base import now_utc
from headwater.schemas.responses import OrchestrationResult, SetStateStatus
from headwater.schemas.states import StateCreate, StateSchema
from headwater.server.services import notifications
from headwater.server.services._runs import (
    aware,
    current_state_values,
    history_row,
    state_from_json,
    to_schema,
)
from headwater.server.services.orchestration.follow_ups import FollowUp
from headwater.server.services.orchestration.policy import FLOW_RUN_FOLLOW_UPS, FLOW_RUN_POLICY
from headwater.server.services.orchestration.rules import (
    OrchestrationRule,
    TransitionContext,
    evaluate,
)
from headwater.server.storage.database import Database
from headwater.server.storage.tables import RUN_TABLES


async def set_flow_run_state(
    db: Database, flow_run_id: UUID, state: StateCreate, force: bool = False
) -> OrchestrationResult:
    """Propose a state for a flow run; the orchestration rules answer.

    Args:
        db: The store.
        flow_run_id: The run.
        state: The proposed state.
        force: Record the state without asking the rules (an operator's override).

    Returns:
        ACCEPT with the recorded state; or REJECT, ABORT or WAIT with the run's current state and the
        reason (and for WAIT, how long to wait before proposing again).

    Raises:
        ObjectNotFound: No flow run has this id.
    """
    return await set_run_state(
        db, "flow_run", flow_run_id, state, policy=FLOW_RUN_POLICY, follow_ups=FLOW_RUN_FOLLOW_UPS, force=force
    )


async def set_run_state(
    db: Database,
    kind: str,
    run_id: UUID,
    state: StateCreate,
    *,
    policy: tuple[type[OrchestrationRule], ...],
    follow_ups: tuple[type[FollowUp], ...] = (),
    force: bool = False,
) -> OrchestrationResult:
    """`set_flow_run_state` for any kind of run (`flow_run` or `task_run`) under any policy.

    A rule's decision may carry a state to record instead of the proposed one (a run cancelled rather
    than started); it is recorded and returned with the decision's status. After the commit, waiters on
    the run (and, for a flow run in a work queue, on its queue) are notified, and the `follow_ups` of
    the recorded state run.
    """
    table, history, run_column = RUN_TABLES[kind]
    run_kind = kind.replace("_", " ")
    async with db.write() as conn:
        # FOR UPDATE holds the row on PostgreSQL until commit, so two proposals to one run are decided one
        # after the other; SQLite ignores it (BEGIN IMMEDIATE already made this transaction the only writer).
        query = sa.select(table).where(table.c.id == run_id).with_for_update()
        row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise ObjectNotFound(f"no {run_kind} with id {run_id}")
        run = dict(row)
        initial = state_from_json(run["state"])
        if initial is not None and initial.id == state.id:
            # The same proposal again (a client retrying a call whose answer it lost): already done.
            return OrchestrationResult(status=SetStateStatus.ACCEPT, state=initial, reason="already in this state")
        if await _in_history(conn, history, state.id):
            return OrchestrationResult(
                status=SetStateStatus.REJECT,
                state=initial,
                reason=(f"state {state.id} was already recorded for {run_kind} {run_id} and is not its current state"),
            )
        decision = None
        if not force:
            context = TransitionContext(run_kind, run_id, run, initial, state, conn)
            decision = await evaluate(policy, context)
            if decision is not None and decision.state is None:
                return OrchestrationResult(
                    status=decision.status,
                    state=initial,
                    reason=decision.reason,
                    delay_seconds=decision.delay_seconds,
                )
        recorded = state if decision is None or decision.state is None else decision.state
        accepted = _not_before(recorded, run["state_timestamp"])
        now = now_utc()
        await conn.execute(
            sa.update(table).where(table.c.id == run_id).values(**accepted_run_values(kind, run, accepted))
        )
        await conn.execute(sa.insert(history), [history_row(run_column, run_id, accepted, now)])
    result = OrchestrationResult(status=SetStateStatus.ACCEPT, state=to_schema(accepted))
    if decision is not None:
        result = result.model_copy(update={"status": decision.status, "reason": decision.reason})
    await _after_commit(db, kind, run, result.state, follow_ups)
    return result


async def _after_commit(
    db: Database,
    kind: str,
    run: dict[str, Any],
    state: StateSchema | None,
    follow_ups: tuple[type[FollowUp], ...],
) -> None:
    if kind != "flow_run" or state is None:
        return
    topics = [notifications.flow_run_topic(run["id"])]
    if run.get("work_queue_id") is not None:
        topics.append(notifications.work_queue_topic(run["work_queue_id"]))
    notifications.notify(*topics)
    for follow_up in follow_ups:
        if state.type in follow_up.TO_STATES:
            await follow_up().after(db, run["id"], state)


async def _in_history(conn: AsyncConnection, history: sa.Table, state_id: UUID) -> bool:
    return (await conn.execute(sa.select(history.c.id).where(history.c.id == state_id))).first() is not None


def _not_before(state: StateCreate, current: datetime | None) -> StateCreate:
    """The accepted state, timestamped no earlier than the current one.

    Order of acceptance is the truth for orchestrated states; a proposer whose clock lags must not file
    its state before the one it replaced, or history (and `records`, which orders by timestamp) would
    put them the wrong way round.
    """
    if current is not None and aware(state.timestamp) < current:
        return state.model_copy(update={"timestamp": current})
    return state


def accepted_run_values(kind: str, run: dict[str, Any], state: StateCreate) -> dict[str, Any]:
    """The run's columns once `state` is accepted: the state copy, start time on its first RUNNING,
    one more run on every RUNNING, end time while finished, and the expected start of a (re)schedule."""
    values = current_state_values(state)
    if state.type is StateType.RUNNING:
        values["run_count"] = run["run_count"] + 1
        if run["start_time"] is None:
            values["start_time"] = state.timestamp
    values["end_time"] = state.timestamp if is_terminal(state.type) else None
    if kind == "flow_run" and state.type is StateType.SCHEDULED and state.details.scheduled_time is not None:
        values["expected_start_time"] = state.details.scheduled_time
    return values
