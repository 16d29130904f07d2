"""Orchestration rules: small named classes, each guarding one thing about a proposed state change.

A rule declares the transitions it cares about (`FROM_STATES` → `TO_STATES`; `None` in `FROM_STATES`
stands for a run with no state yet) and answers with a `Decision` to refuse, abort or delay the
change, or None to let it through. Policies are ordered tuples of rules; the first decision wins.
New rules (concurrency limits answering WAIT, deployment pauses …) are new classes added to a policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.core.states import TERMINAL_STATES, StateType, is_valid_transition
from headwater.schemas.responses import SetStateStatus
from headwater.schemas.states import StateCreate, StateSchema

ALL_STATES: frozenset[StateType | None] = frozenset([*StateType, None])
RETRY_STATES = frozenset({StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING})


@dataclass(frozen=True)
class TransitionContext:
    """What a rule may look at: the run, its current state, the proposed one, and the open transaction
    (for rules that must look something up, such as free concurrency slots)."""

    run_kind: str
    """`flow run` or `task run`, for messages."""
    run_id: UUID
    run: dict[str, Any]
    """The run's row, read for update."""
    initial: StateSchema | None
    proposed: StateCreate
    conn: AsyncConnection

    @property
    def initial_type(self) -> StateType | None:
        """The current state's type, None for a run with no state."""
        return None if self.initial is None else self.initial.type

    def describe(self, state: StateSchema | StateCreate | None) -> str:
        """`Late (SCHEDULED)`, or `no state`, for messages."""
        if state is None:
            return "no state"
        return f"{state.name or state.type.value.capitalize()} ({state.type.value})"


@dataclass(frozen=True)
class Decision:
    """A rule's answer when it does not let a change through."""

    status: SetStateStatus
    reason: str
    delay_seconds: float | None = None
    state: StateCreate | None = None
    """A state recorded instead of the proposed one (a run cancelled rather than started), if any."""


def reject(reason: str) -> Decision:
    """Refuse the change; the run keeps its state."""
    return Decision(SetStateStatus.REJECT, reason)


def abort(reason: str, state: StateCreate | None = None) -> Decision:
    """Tell the proposer to stop: the run must not go on; `state`, when given, is recorded instead."""
    return Decision(SetStateStatus.ABORT, reason, state=state)


def wait(reason: str, delay_seconds: float) -> Decision:
    """Tell the proposer to propose again after a delay."""
    return Decision(SetStateStatus.WAIT, reason, delay_seconds)


class OrchestrationRule:
    """Base class of rules. Subclasses set `FROM_STATES` and `TO_STATES` and implement `decide`."""

    FROM_STATES: ClassVar[frozenset[StateType | None]] = ALL_STATES
    TO_STATES: ClassVar[frozenset[StateType]] = frozenset(StateType)

    @classmethod
    def applies_to(cls, context: TransitionContext) -> bool:
        """Whether the proposed transition is one this rule guards."""
        return context.initial_type in cls.FROM_STATES and context.proposed.type in cls.TO_STATES

    async def decide(self, context: TransitionContext) -> Decision | None:
        """A decision against the change, or None to let it through."""
        raise NotImplementedError


class AbortCancelledRuns(OrchestrationRule):
    """A run being cancelled, or cancelled, must not start again on its own.

    Proposing PENDING or RUNNING to it answers ABORT, so the worker or process that proposed stops
    instead of doing work nobody wants any more. Only an explicit retry (a new SCHEDULED state) brings
    it back. (A deleted run never reaches the rules: its id is unknown, which raises `ObjectNotFound`.)
    """

    FROM_STATES = frozenset({StateType.CANCELLING, StateType.CANCELLED})
    TO_STATES = frozenset({StateType.PENDING, StateType.RUNNING})

    async def decide(self, context: TransitionContext) -> Decision | None:
        return abort(
            f"{context.run_kind} {context.run_id} is {context.describe(context.initial)}: "
            f"it was cancelled and must not become {context.proposed.type.value}"
        )


class PreventLeavingTerminalState(OrchestrationRule):
    """A finished run (COMPLETED, FAILED, CANCELLED, CRASHED) stays finished unless it is retried.

    Only SCHEDULED, PENDING or RUNNING (a retry) may follow a terminal state. A second terminal state,
    or CANCELLING/PAUSED, would rewrite how the run ended — typically a late or duplicate report from a
    process that lost track — so it is rejected with the run's actual state.
    """

    FROM_STATES = frozenset(TERMINAL_STATES)
    TO_STATES = frozenset(StateType) - RETRY_STATES

    async def decide(self, context: TransitionContext) -> Decision | None:
        return reject(
            f"{context.run_kind} {context.run_id} has already finished in state "
            f"{context.describe(context.initial)}; it can only be retried (SCHEDULED, PENDING or RUNNING), "
            f"not moved to {context.proposed.type.value}"
        )


class PreventInvalidTransitions(OrchestrationRule):
    """The catch-all: a change the transition table (`core.states.ALLOWED_TRANSITIONS`) does not allow,
    such as PENDING → PENDING or CANCELLING → RUNNING, is rejected, naming both states."""

    async def decide(self, context: TransitionContext) -> Decision | None:
        if is_valid_transition(context.initial_type, context.proposed.type):
            return None
        return reject(
            f"{context.run_kind} {context.run_id} cannot go from {context.describe(context.initial)} "
            f"to {context.proposed.type.value}"
        )


TRANSITION_RULES: tuple[type[OrchestrationRule], ...] = (
    AbortCancelledRuns,
    PreventLeavingTerminalState,
    PreventInvalidTransitions,
)
"""The rules about the transition itself, first in every policy (`policy.FLOW_RUN_POLICY` adds the rules
about deployments and work pools after them)."""


async def evaluate(policy: tuple[type[OrchestrationRule], ...], context: TransitionContext) -> Decision | None:
    """The first decision of the rules of `policy` that apply, or None when all let the change through."""
    for rule in policy:
        if rule.applies_to(context):
            decision = await rule().decide(context)
            if decision is not None:
                return decision
    return None
