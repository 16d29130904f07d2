"""How lists of objects are queried: filters, sorting and pagination."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from headwater.core.states import StateType
from headwater.schemas._base import Schema

MAX_LIMIT = 1000


class FlowRunSort(StrEnum):
    """Orderings for flow run lists."""

    START_TIME_DESC = "START_TIME_DESC"
    START_TIME_ASC = "START_TIME_ASC"
    CREATED_DESC = "CREATED_DESC"
    NAME_ASC = "NAME_ASC"


class FlowRunFilter(Schema):
    """Which flow runs to list; every field given must match (AND); list fields match any of their values."""

    id: list[UUID] | None = None
    flow_name: list[str] | None = None
    name_like: str | None = None
    state_type: list[StateType] | None = None
    state_name: list[str] | None = None
    tags_all: list[str] | None = None
    parent_flow_run_id: UUID | None = None
    """Only the subflow runs of this flow run."""
    is_subflow: bool | None = None
    deployment_id: list[UUID] | None = None
    work_pool_name: list[str] | None = None
    created_after: datetime | None = None
    """Only runs the store received at or after this time."""
    sort: FlowRunSort = FlowRunSort.START_TIME_DESC
    limit: int = Field(default=200, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0)


class TaskRunFilter(Schema):
    """Which task runs to list, oldest first."""

    id: list[UUID] | None = None
    flow_run_id: list[UUID] | None = None
    state_type: list[StateType] | None = None
    limit: int = Field(default=200, ge=1, le=MAX_LIMIT * 10)
    offset: int = Field(default=0, ge=0)


class LogFilter(Schema):
    """Which log lines to list, in the order they were emitted."""

    flow_run_id: list[UUID] | None = None
    task_run_id: list[UUID] | None = None
    level_ge: int | None = None
    limit: int = Field(default=200, ge=1, le=MAX_LIMIT * 10)
    offset: int = Field(default=0, ge=0)
