"""Run states: what a flow or task run is doing, and what it ended with.

A `State` has a type (`StateType`), a name (`Completed`, or a named state such as `Cached`), a time, a
message and, once finished, a result: `state.result()` returns the run's value, or re-raises its
exception. Build states with the helpers below, e.g. `return Failed(message="no data today")` to fail
a flow without raising.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from headwater.core.states import DEFAULT_NAMES, TERMINAL_STATES, StateType
from headwater.exceptions import CancelledRun, CrashedRun, FailedRun, MissingResult, UnfinishedRun
from headwater.utilities.ids import new_id

R = TypeVar("R")

_NO_DATA: Any = object()


class State(Generic[R]):
    """A run's state. Equal states have the same id."""

    __slots__ = ("_data", "cache_key", "id", "message", "name", "result_ref", "scheduled_time", "timestamp", "type")

    def __init__(
        self,
        type: StateType,
        name: str | None = None,
        message: str | None = None,
        data: Any = _NO_DATA,
        *,
        timestamp: datetime | None = None,
        result_ref: dict[str, Any] | None = None,
        cache_key: str | None = None,
        scheduled_time: datetime | None = None,
        id: UUID | None = None,
    ) -> None:
        self.type = type
        self.name = name or DEFAULT_NAMES[type]
        self.message = message
        self._data = data
        self.timestamp = timestamp or datetime.now(UTC)
        self.result_ref = result_ref
        """Where the result is persisted (a result record's metadata), when it is."""
        self.cache_key = cache_key
        self.scheduled_time = scheduled_time
        self.id = id or new_id()

    def __repr__(self) -> str:
        parts = [repr(self.message)] if self.message else []
        if self.name.upper() != self.type.value:
            parts.append(f"type={self.type.value}")
        return f"{self.name}({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, State) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    # -- type tests -------------------------------------------------------------------------------
    def is_scheduled(self) -> bool:
        """Whether the run is scheduled."""
        return self.type is StateType.SCHEDULED

    def is_pending(self) -> bool:
        """Whether the run is pending."""
        return self.type is StateType.PENDING

    def is_running(self) -> bool:
        """Whether the run is running."""
        return self.type is StateType.RUNNING

    def is_completed(self) -> bool:
        """Whether the run completed."""
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        """Whether the run failed."""
        return self.type is StateType.FAILED

    def is_crashed(self) -> bool:
        """Whether the run crashed."""
        return self.type is StateType.CRASHED

    def is_cancelled(self) -> bool:
        """Whether the run was cancelled."""
        return self.type is StateType.CANCELLED

    def is_cancelling(self) -> bool:
        """Whether the run is being cancelled."""
        return self.type is StateType.CANCELLING

    def is_paused(self) -> bool:
        """Whether the run is paused."""
        return self.type is StateType.PAUSED

    def is_final(self) -> bool:
        """Whether the run has finished."""
        return self.type in TERMINAL_STATES

    # -- results ----------------------------------------------------------------------------------
    @property
    def data(self) -> Any:
        """The value (or exception) held in memory, or None."""
        return None if self._data is _NO_DATA else self._data

    def has_data(self) -> bool:
        """Whether the state holds its value (or exception) in memory."""
        return self._data is not _NO_DATA

    def result(self, raise_on_failure: bool = True) -> R:
        """The run's return value; for a failed, crashed or cancelled run, its exception is raised.

        Args:
            raise_on_failure: when False, the exception is returned instead of raised.
        """
        if self.type is StateType.COMPLETED:
            return self._value()  # type: ignore[no-any-return]
        if self.type in TERMINAL_STATES:
            exc = self._exception()
            if raise_on_failure:
                raise exc
            return exc  # type: ignore[return-value]
        raise UnfinishedRun(
            f"The run is in state {self.name!r} ({self.type.value}); it has no result until it finishes."
        )

    def _value(self) -> Any:
        if self._data is not _NO_DATA:
            return self._data
        if self.result_ref is not None:
            from headwater.results import load_result_ref

            self._data = load_result_ref(self.result_ref)
            return self._data
        raise MissingResult(
            "The run completed but its result was not kept: set persist_result=True on the flow or task "
            "to read it from another process."
        )

    def _exception(self) -> BaseException:
        data = self._data
        if data is _NO_DATA and self.result_ref is not None:
            from headwater.results import load_result_ref

            data = load_result_ref(self.result_ref)
        if isinstance(data, BaseException):
            return data
        if isinstance(data, State) and data.is_final() and not data.is_completed():
            return data._exception()
        message = self.message or f"Run ended in state {self.name!r}."
        if self.type is StateType.CRASHED:
            return CrashedRun(message)
        if self.type is StateType.CANCELLED:
            return CancelledRun(message)
        return FailedRun(message)


def _make(type: StateType, default_name: str | None = None) -> Any:
    def constructor(
        message: str | None = None, data: Any = _NO_DATA, *, name: str | None = None, **kwargs: Any
    ) -> State[Any]:
        return State(type, name or default_name, message, data, **kwargs)

    label = default_name or DEFAULT_NAMES[type]
    constructor.__name__ = constructor.__qualname__ = label
    constructor.__doc__ = f"A new `{label}` state ({type.value})."
    return constructor


Scheduled = _make(StateType.SCHEDULED)
Late = _make(StateType.SCHEDULED, "Late")
AwaitingRetry = _make(StateType.SCHEDULED, "AwaitingRetry")
Pending = _make(StateType.PENDING)
Running = _make(StateType.RUNNING)
Retrying = _make(StateType.RUNNING, "Retrying")
Completed = _make(StateType.COMPLETED)
Cached = _make(StateType.COMPLETED, "Cached")
Failed = _make(StateType.FAILED)
TimedOut = _make(StateType.FAILED, "TimedOut")
Crashed = _make(StateType.CRASHED)
Cancelling = _make(StateType.CANCELLING)
Cancelled = _make(StateType.CANCELLED)
Paused = _make(StateType.PAUSED)
Suspended = _make(StateType.PAUSED, "Suspended")


def get_state_exception(state: State[Any]) -> BaseException:
    """The exception a failed, crashed or cancelled state stands for."""
    return state._exception()


def raise_state_exception(state: State[Any]) -> None:
    """Raise the state's exception if the run did not complete."""
    if state.is_final() and not state.is_completed():
        raise state._exception()


def count_failed(states: Iterable[State[Any]]) -> int:
    """How many of the states are failed, crashed or cancelled."""
    return sum(1 for s in states if s.is_final() and not s.is_completed())


__all__ = [
    "AwaitingRetry",
    "Cached",
    "Cancelled",
    "Cancelling",
    "Completed",
    "Crashed",
    "Failed",
    "Late",
    "Paused",
    "Pending",
    "Retrying",
    "Running",
    "Scheduled",
    "State",
    "StateType",
    "Suspended",
    "TimedOut",
    "get_state_exception",
    "raise_state_exception",
]
