"""Deployments, their schedules, and the runs created from them: the wire contract."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Self
from uuid import UUID

from pydantic import Field, model_validator

from headwater.schemas._base import ObjectSchema, Schema
from headwater.schemas.states import StateCreate


class ScheduleSpec(Schema):
    """When runs are due: exactly one of `cron`, `interval` (seconds) or `rrule`."""

    cron: str | None = None
    interval: float | None = Field(default=None, gt=0)
    rrule: str | None = None
    timezone: str = "UTC"
    anchor_date: datetime | None = None
    """For intervals: the first due time (default: when the schedule was created)."""
    day_or: bool = True
    """For cron: day-of-month and day-of-week are OR-ed (cron's own rule) when True."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in ("cron", "interval", "rrule") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"A schedule needs exactly one of cron, interval or rrule; got {given or 'none'}."
            )
        return self


class DeploymentScheduleCreate(Schema):
    """A schedule to attach to a deployment."""

    schedule: ScheduleSpec
    active: bool = True


class DeploymentSchedule(ObjectSchema):
    """A schedule attached to a deployment."""

    schedule: ScheduleSpec
    active: bool = True


class CollisionStrategy(StrEnum):
    """What happens to a new run when the deployment's concurrency limit is reached."""

    ENQUEUE = "ENQUEUE"
    """It waits (stays scheduled) until a slot frees up."""
    CANCEL_NEW = "CANCEL_NEW"
    """It is cancelled."""


class DeploymentCreate(Schema):
    """A deployment to create, or to update in place when one with this flow and name exists."""

    name: str = Field(min_length=1)
    flow_name: str = Field(min_length=1)
    version: str | None = None
    description: str | None = None
    entrypoint: str
    """`path/to/file.py:function`, relative to `path`."""
    path: str | None = None
    """The folder the entrypoint is relative to, on the worker's machine."""
    source: str | None = None
    """Where the code comes from when not at `path`: a git repository URL (cloned by the worker)."""
    parameters: dict[str, Any] = Field(default_factory=dict)
    """Default parameters for runs."""
    parameter_openapi_schema: dict[str, Any] = Field(default_factory=dict)
    enforce_parameter_schema: bool = True
    tags: list[str] = Field(default_factory=list)
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    schedules: list[DeploymentScheduleCreate] = Field(default_factory=list)
    paused: bool = False
    concurrency_limit: int | None = Field(default=None, ge=1)
    collision_strategy: CollisionStrategy = CollisionStrategy.ENQUEUE


class Deployment(ObjectSchema):
    """A deployed flow: what to run, where, with which defaults and on what schedule."""

    name: str
    flow_id: UUID
    flow_name: str
    version: str | None = None
    description: str | None = None
    entrypoint: str
    path: str | None = None
    source: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    parameter_openapi_schema: dict[str, Any] = Field(default_factory=dict)
    enforce_parameter_schema: bool = True
    tags: list[str] = Field(default_factory=list)
    work_pool_name: str | None = None
    work_queue_name: str | None = None
    work_queue_id: UUID | None = None
    schedules: list[DeploymentSchedule] = Field(default_factory=list)
    paused: bool = False
    concurrency_limit: int | None = None
    collision_strategy: CollisionStrategy = CollisionStrategy.ENQUEUE


class DeploymentApplied(Schema):
    """The answer to applying a deployment."""

    deployment: Deployment
    created: bool
    """False when an existing deployment was updated in place."""
    work_pool_created: bool = False
    """True when the work pool did not exist and a `process` pool was created for it."""


class DeploymentUpdate(Schema):
    """Fields of a deployment to change; fields not given are left as they are."""

    paused: bool | None = None
    description: str | None = None
    concurrency_limit: int | None = Field(default=None, ge=1)


class DeploymentFilter(Schema):
    """Which deployments to list, by name."""

    flow_name: list[str] | None = None
    name: list[str] | None = None
    work_pool_name: list[str] | None = None
    paused: bool | None = None
    limit: int = Field(default=200, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class DeploymentFlowRunCreate(Schema):
    """A run of a deployment. Parameters are merged over the deployment's defaults and validated."""

    parameters: dict[str, Any] = Field(default_factory=dict)
    name: str | None = None
    scheduled_time: datetime | None = None
    """When the run is due (default: now)."""
    tags: list[str] = Field(default_factory=list)
    idempotency_key: str | None = None
    """Creating a run with the same key for the same deployment returns the first run."""
    parent_task_run_id: UUID | None = None
    """Set when the run is started from inside a flow run, to link it as a child of that run."""
    work_queue_name: str | None = None
    state: StateCreate | None = None
    """Default: SCHEDULED at `scheduled_time`."""
