"""Work pools, their queues, and the workers that poll them: the wire contract."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from headwater.schemas._base import ObjectSchema, Schema
from headwater.schemas.objects import FlowRun

DEFAULT_QUEUE = "default"


class WorkPoolCreate(Schema):
    """A new work pool. Its queue `default` is created with it."""

    name: str = Field(min_length=1, pattern=r"^[^/%&><]+$")
    type: str = "process"
    description: str | None = None
    paused: bool = False
    concurrency_limit: int | None = Field(default=None, ge=0)


class WorkPoolUpdate(Schema):
    """Fields of a work pool to change; fields not given are left as they are."""

    description: str | None = None
    paused: bool | None = None
    concurrency_limit: int | None = Field(default=None, ge=0)


class WorkPoolStatus(StrEnum):
    """Whether any worker polls the pool."""

    READY = "READY"
    NOT_READY = "NOT_READY"
    PAUSED = "PAUSED"


class WorkPool(ObjectSchema):
    """A work pool: where deployment runs wait for a worker of its type."""

    name: str
    type: str
    description: str | None = None
    paused: bool = False
    concurrency_limit: int | None = None
    status: WorkPoolStatus = WorkPoolStatus.NOT_READY
    default_queue_id: UUID | None = None


class WorkQueueCreate(Schema):
    """A new queue in a work pool. Lower `priority` numbers are served first."""

    name: str = Field(min_length=1)
    description: str | None = None
    priority: int = Field(default=1, ge=1)
    concurrency_limit: int | None = Field(default=None, ge=0)
    paused: bool = False


class WorkQueueUpdate(Schema):
    """Fields of a work queue to change."""

    description: str | None = None
    priority: int | None = Field(default=None, ge=1)
    concurrency_limit: int | None = Field(default=None, ge=0)
    paused: bool | None = None


class WorkQueue(ObjectSchema):
    """A queue in a work pool."""

    name: str
    work_pool_id: UUID
    work_pool_name: str
    description: str | None = None
    priority: int = 1
    concurrency_limit: int | None = None
    paused: bool = False


class WorkerHeartbeat(Schema):
    """A worker says it is alive and polling."""

    name: str
    heartbeat_interval_seconds: float | None = None


class WorkerStatus(StrEnum):
    """Whether a worker has been heard from recently."""

    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"


class Worker(ObjectSchema):
    """A worker polling a work pool."""

    name: str
    work_pool_id: UUID
    last_heartbeat_time: datetime | None = None
    heartbeat_interval_seconds: float | None = None
    status: WorkerStatus = WorkerStatus.OFFLINE


class GetScheduledFlowRuns(Schema):
    """A worker asks for runs that are due. With `wait_seconds`, the server holds the request until a
    run is due or the time is up (long-poll), so a new run reaches a polling worker at once."""

    work_queue_names: list[str] | None = None
    """Only these queues of the pool (default: all)."""
    scheduled_before: datetime | None = None
    """Runs due before this time (default: now)."""
    limit: int = Field(default=10, ge=1, le=200)
    wait_seconds: float = Field(default=0, ge=0, le=60)
    worker_name: str | None = None


class WorkerFlowRunResponse(Schema):
    """A due run handed to a worker, with where it came from."""

    work_pool_id: UUID
    work_queue_id: UUID
    flow_run: FlowRun
