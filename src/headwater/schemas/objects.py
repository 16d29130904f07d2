"""Stored objects, as the API returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from headwater.core.states import StateType
from headwater.schemas._base import ObjectSchema
from headwater.schemas.states import StateSchema


class Flow(ObjectSchema):
    """A flow, known by its name."""

    name: str
    tags: list[str] = Field(default_factory=list)


class FlowRun(ObjectSchema):
    """One run of a flow."""

    name: str
    flow_id: UUID
    flow_name: str | None = None
    parent_task_run_id: UUID | None = None
    parent_flow_run_id: UUID | None = None
    """Filled from the parent task run when the run is a subflow."""
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    state: StateSchema | None = None
    state_type: StateType | None = None
    state_name: str | None = None
    run_count: int = 0
    expected_start_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    heartbeat: datetime | None = None
    deployment_id: UUID | None = None
    deployment_name: str | None = None
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    work_queue_id: UUID | None = None
    idempotency_key: str | None = None
    auto_scheduled: bool = False
    """Created by the scheduler from a deployment's schedule."""


class TaskRun(ObjectSchema):
    """One run of a task, inside a flow run."""

    name: str
    flow_run_id: UUID | None = None
    task_key: str
    dynamic_key: str
    cache_key: str | None = None
    tags: list[str] = Field(default_factory=list)
    state: StateSchema | None = None
    state_type: StateType | None = None
    state_name: str | None = None
    run_count: int = 0
    start_time: datetime | None = None
    end_time: datetime | None = None
    child_flow_run_id: UUID | None = None
    """Set on the task run that stands for a subflow call."""


class Log(ObjectSchema):
    """One log line, recorded for a flow run and possibly one of its task runs."""

    name: str
    level: int
    message: str
    timestamp: datetime
    flow_run_id: UUID | None = None
    task_run_id: UUID | None = None
