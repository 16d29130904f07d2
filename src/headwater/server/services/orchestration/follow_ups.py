"""Follow-ups: what an accepted flow-run state sets off once it is committed, as small named classes.

A follow-up declares the states it follows (`TO_STATES`) and acts after the commit, through the services
(so what it changes is orchestrated, recorded and notified like any other change). Acting after the
commit keeps the proposer's transaction short; if the process dies in between, the run is still in the
state that was accepted, and the follow-up is repeated by the next such state.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

import sqlalchemy as sa

from headwater.core.states import TERMINAL_STATES, StateType
from headwater.schemas.states import StateCreate, StateSchema
from headwater.server.storage.database import Database
from headwater.server.storage.tables import flow_runs, task_runs


class FollowUp:
    """Base class of follow-ups. Subclasses set `TO_STATES` and implement `after`."""

    TO_STATES: ClassVar[frozenset[StateType]] = frozenset()

    async def after(self, db: Database, run_id: UUID, state: StateSchema) -> None:
        """Act on `state`, which the run `run_id` has just entered."""
        raise NotImplementedError


_NOT_STARTED = frozenset({StateType.SCHEDULED, StateType.PAUSED})


class CancelChildFlowRuns(FollowUp):
    """Cancelling a flow run cancels its children: every unfinished flow run whose parent task run is a
    task run of this run (its subflows, and the deployment runs it started with `run_deployment`).

    A child that started (PENDING or RUNNING) becomes CANCELLING, so whatever runs it stops it; one that
    has not (SCHEDULED or PAUSED, or without a state) becomes CANCELLED at once. Each child's cancellation
    is a proposed state like any other, so it cascades to the child's own children in turn, and a child
    that finished meanwhile is left as it ended.
    """

    TO_STATES = frozenset({StateType.CANCELLING, StateType.CANCELLED})

    async def after(self, db: Database, run_id: UUID, state: StateSchema) -> None:
        # Imported here: `transitions` runs follow-ups, and a follow-up proposes states through it.
        from headwater.server.services.orchestration.transitions import set_flow_run_state

        unfinished = sa.or_(
            flow_runs.c.state_type.is_(None),
            flow_runs.c.state_type.not_in([t.value for t in (*TERMINAL_STATES, StateType.CANCELLING)]),
        )
        query = sa.select(flow_runs.c.id, flow_runs.c.state_type).where(
            flow_runs.c.parent_task_run_id.in_(sa.select(task_runs.c.id).where(task_runs.c.flow_run_id == run_id)),
            unfinished,
        )
        async with db.read() as conn:
            children = list(await conn.execute(query))
        for child_id, child_state in children:
            started = child_state is not None and StateType(child_state) not in _NOT_STARTED
            cancel = StateCreate(
                type=StateType.CANCELLING if started else StateType.CANCELLED,
                message=f"Its parent flow run {run_id} is {state.name.lower()}.",
            )
            await set_flow_run_state(db, child_id, cancel)
