"""State types, their families and the transition table. Pure: shared by the engine and the server."""

from __future__ import annotations

from enum import StrEnum


class StateType(StrEnum):
    """The type of a run's state; every named state (Late, Retrying, Cached …) has one of these types."""

    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CANCELLING = "CANCELLING"
    CRASHED = "CRASHED"
    PAUSED = "PAUSED"


TERMINAL_STATES: frozenset[StateType] = frozenset(
    {StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED}
)
"""States a run does not leave unless it is retried."""

FAILURE_STATES: frozenset[StateType] = frozenset({StateType.FAILED, StateType.CRASHED, StateType.CANCELLED})

DEFAULT_NAMES: dict[StateType, str] = {t: t.value.capitalize() for t in StateType}
"""The name a state gets when none is given: `Completed`, `Failed` …"""

_ANY = frozenset(StateType)

# Which proposed state may follow which current state. `None` stands for a run with no state yet.
# Terminal states may only be left by a retry (back to SCHEDULED, PENDING or RUNNING, which the
# orchestration rules allow under their own conditions) — never to another terminal state.
ALLOWED_TRANSITIONS: dict[StateType | None, frozenset[StateType]] = {
    None: _ANY,
    StateType.SCHEDULED: _ANY,
    StateType.PENDING: _ANY - {StateType.PENDING},
    StateType.RUNNING: _ANY - {StateType.PENDING},
    StateType.PAUSED: _ANY - {StateType.PAUSED},
    StateType.CANCELLING: frozenset(
        {StateType.CANCELLED, StateType.CRASHED, StateType.FAILED, StateType.COMPLETED, StateType.CANCELLING}
    ),
    StateType.COMPLETED: frozenset({StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING}),
    StateType.FAILED: frozenset({StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING}),
    StateType.CANCELLED: frozenset({StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING}),
    StateType.CRASHED: frozenset({StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING}),
}


def is_terminal(state_type: StateType | None) -> bool:
    """Whether a run in this state has finished."""
    return state_type in TERMINAL_STATES


def is_valid_transition(current: StateType | None, proposed: StateType) -> bool:
    """Whether the transition table allows `proposed` to follow `current` at all.

    The orchestration rules add conditions on top (a retry needs retries left, for instance).
    """
    return proposed in ALLOWED_TRANSITIONS[current]
