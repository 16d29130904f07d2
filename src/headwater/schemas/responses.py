"""Answers of the API that are not plain stored objects."""

from __future__ import annotations

from enum import StrEnum

from headwater.schemas._base import Schema
from headwater.schemas.states import StateSchema


class SetStateStatus(StrEnum):
    """The orchestrator's answer to a proposed state."""

    ACCEPT = "ACCEPT"
    """The proposed state was recorded."""
    REJECT = "REJECT"
    """The proposed state was refused; `state` is the run's current state."""
    WAIT = "WAIT"
    """Propose again after `delay_seconds` (a concurrency slot may free up)."""
    ABORT = "ABORT"
    """Stop: the run should not go on (it was deleted, or cancelled meanwhile)."""


class OrchestrationResult(Schema):
    """The answer to `set_state`: what happened, the run's state now, and why."""

    status: SetStateStatus
    state: StateSchema | None = None
    reason: str | None = None
    delay_seconds: float | None = None


class Health(Schema):
    """The answer of the health endpoint."""

    status: str
    version: str
    database: str
