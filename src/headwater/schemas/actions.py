"""What the API accepts: creations and the batched records the SDK writes behind the hot path."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from headwater.schemas._base import Schema, new_id
from headwater.schemas.states import StateCreate


class FlowRunCreate(Schema):
    """A new flow run. The client may choose the id so a retried create is harmless."""

    id: UUID = Field(default_factory=new_id)
    name: str
    flow_name: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    parent_task_run_id: UUID | None = None
    state: StateCreate | None = None
    """The initial state; SCHEDULED, PENDING or RUNNING."""


class TaskRunCreate(Schema):
    """A new task run."""

    id: UUID = Field(default_factory=new_id)
    name: str
    flow_run_id: UUID | None = None
    task_key: str
    dynamic_key: str
    cache_key: str | None = None
    tags: list[str] = Field(default_factory=list)
    child_flow_run_id: UUID | None = None
    state: StateCreate | None = None


class RunStateRecord(Schema):
    """A state a client-orchestrated run has taken, recorded after the fact."""

    run_id: UUID
    state: StateCreate
    run_count: int | None = None
    """The run's attempt count when it entered this state, as the client counted it."""


class LogCreate(Schema):
    """A log line to record."""

    id: UUID = Field(default_factory=new_id)
    name: str
    level: int
    message: str
    timestamp: datetime
    flow_run_id: UUID | None = None
    task_run_id: UUID | None = None


class Heartbeat(Schema):
    """A running flow run says it is alive."""

    flow_run_id: UUID
    timestamp: datetime


class RecordBatch(Schema):
    """Everything the SDK recorded since its last flush, written in one go.

    Every item carries a client-chosen id: writing the same batch twice records nothing twice.
    Items are applied in this order: flow runs, task runs, flow run states, task run states, logs,
    heartbeats, so a batch may carry a run together with the states it went through.
    """

    flow_runs: list[FlowRunCreate] = Field(default_factory=list)
    task_runs: list[TaskRunCreate] = Field(default_factory=list)
    flow_run_states: list[RunStateRecord] = Field(default_factory=list)
    task_run_states: list[RunStateRecord] = Field(default_factory=list)
    logs: list[LogCreate] = Field(default_factory=list)
    heartbeats: list[Heartbeat] = Field(default_factory=list)

    def __len__(self) -> int:
        return (
            len(self.flow_runs)
            + len(self.task_runs)
            + len(self.flow_run_states)
            + len(self.task_run_states)
            + len(self.logs)
            + len(self.heartbeats)
        )
