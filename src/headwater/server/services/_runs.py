"""What flow runs and task runs share: turning states into rows, working out what a set of states does
to a run's columns, and turning rows back into schemas."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy.engine import Row

from headwater.core.states import DEFAULT_NAMES, StateType, is_terminal
from headwater.schemas.objects import FlowRun, Log, TaskRun
from headwater.schemas.states import StateCreate, StateSchema
from headwater.server.storage.types import json_dumps

T = TypeVar("T")

IN_CHUNK = 1000
"""Ids per `IN (…)` list: far below SQLite's and asyncpg's bound-parameter limits."""


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """`items` in slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def aware(value: datetime) -> datetime:
    """`value` with a time zone: a naive datetime is taken to be UTC (as the store does), so it compares
    with aware ones. Aware values are left as they are: they compare correctly whatever their zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def state_name(state: StateCreate) -> str:
    """The state's name, or its type's default name (`Completed` …)."""
    return state.name or DEFAULT_NAMES[state.type]


def to_schema(state: StateCreate) -> StateSchema:
    """The stored form of a state: named."""
    return StateSchema.model_validate({**dict(state), "name": state_name(state)})


def history_row(run_column: str, run_id: UUID, state: StateCreate, now: datetime) -> dict[str, Any]:
    """The row recording `state` in a run's state history."""
    return {
        "id": state.id,
        run_column: run_id,
        "type": state.type.value,
        "name": state_name(state),
        "timestamp": state.timestamp,
        "message": state.message,
        "data": state.data,
        "details": state.details.model_dump(mode="json", exclude_none=True),
        "created": now,
        "updated": now,
    }


def current_state_values(state: StateCreate) -> dict[str, Any]:
    """A run's current-state columns for `state`, including the JSON copy read back by `read_*`."""
    name = state_name(state)
    copy = state.model_dump(mode="json")
    copy["name"] = name
    return {
        "state_id": state.id,
        "state_type": state.type.value,
        "state_name": name,
        "state_timestamp": state.timestamp,
        "state": copy,
    }


def current_state_json(state: StateCreate) -> str:
    """The JSON text of `current_state_values(state)["state"]`, as the `JSON` column would store it.

    The bulk write path (`services.records`) hands it to the driver ready-made. A named state (every state
    the SDK records) is serialised straight from the model, in C: the same text as dumping it to a dict,
    naming it, and serialising the dict, for a fraction of the cost.
    """
    if state.name is not None:
        return state.__pydantic_serializer__.to_json(state).decode()
    return json_dumps(current_state_values(state)["state"])


@dataclass(slots=True)
class RunProgress:
    """What a set of newly recorded states does to one run's columns.

    The newest state (by timestamp; on a tie, the later one given) becomes the current state; the
    first RUNNING state sets the start time; the run count is the highest count the client reported,
    or, for RUNNING states that carry none, one more per such state.
    """

    newest: StateCreate | None = None
    newest_at: datetime | None = None
    """The newest state's timestamp, made aware (kept: `add` runs for every state of a batch)."""
    earliest: datetime | None = None
    scheduled_time: datetime | None = None
    first_running: datetime | None = None
    first_running_state: StateCreate | None = None
    """The state that set `first_running` (the bulk write path reuses its converted timestamp)."""
    run_count_floor: int = 0
    running_without_count: int = 0

    def add(self, state: StateCreate, run_count: int | None = None) -> None:
        """Take one state into account."""
        # Called for every state of every batch: written out (no helper calls, identity tests on the
        # type) since it showed in profiles of the hot write path.
        timestamp = state.timestamp
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=UTC)  # naive is UTC, as in `aware`
        if self.newest_at is None or timestamp >= self.newest_at:
            self.newest = state
            self.newest_at = timestamp
        if self.earliest is None or timestamp < self.earliest:
            self.earliest = timestamp
        state_type = state.type
        if state_type is StateType.RUNNING:
            if self.first_running is None or timestamp < self.first_running:
                self.first_running = timestamp
                self.first_running_state = state
            if run_count is None:
                self.running_without_count += 1
        elif state_type is StateType.SCHEDULED and state.details.scheduled_time is not None:
            self.scheduled_time = state.details.scheduled_time
        if run_count is not None and run_count > self.run_count_floor:
            self.run_count_floor = run_count

    def run_count(self, current: int = 0) -> int:
        """The run count of a run that had `current`."""
        return max(current + self.running_without_count, self.run_count_floor)

    @property
    def end_time(self) -> datetime | None:
        """When the run finished, if its newest state is terminal (a retried run is unfinished again)."""
        if self.newest is not None and is_terminal(self.newest.type):
            return self.newest.timestamp
        return None

    @property
    def expected_start_time(self) -> datetime | None:
        """When a new flow run is expected to start: its scheduled time, else its earliest state's time."""
        return self.scheduled_time or self.earliest

    def new_run_values(self) -> dict[str, Any]:
        """The state-derived columns of a run inserted together with these states."""
        values: dict[str, Any] = dict.fromkeys(("state_id", "state_type", "state_name", "state_timestamp", "state"))
        if self.newest is not None:
            values.update(current_state_values(self.newest))
        values["start_time"] = self.first_running
        values["end_time"] = self.end_time
        values["run_count"] = self.run_count()
        return values


def state_from_json(value: dict[str, Any] | None) -> StateSchema | None:
    """A run's current state from its JSON copy."""
    return None if value is None else StateSchema.model_validate(value)


def state_from_history(row: Row[Any]) -> StateSchema:
    """A state from a row of a state history table."""
    return StateSchema.model_validate(
        {
            "id": row.id,
            "type": row.type,
            "name": row.name,
            "timestamp": row.timestamp,
            "message": row.message,
            "data": row.data,
            "details": row.details,
        }
    )


def flow_run_from_row(row: Row[Any]) -> FlowRun:
    """A flow run from a row of `flow_runs` joined with its flow's name and its parent's flow run."""
    values = row._asdict()
    values["state"] = state_from_json(values["state"])
    del values["state_id"], values["state_timestamp"]
    return FlowRun.model_validate(values)


def task_run_from_row(row: Row[Any]) -> TaskRun:
    """A task run from a row of `task_runs`."""
    values = row._asdict()
    values["state"] = state_from_json(values["state"])
    del values["state_id"], values["state_timestamp"]
    return TaskRun.model_validate(values)


def log_from_row(row: Row[Any]) -> Log:
    """A log line from a row of `logs`."""
    values = row._asdict()
    del values["seq"]
    return Log.model_validate(values)
