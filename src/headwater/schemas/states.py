"""States as they travel on the wire and are stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from headwater.core.states import StateType
from headwater.schemas._base import Schema, new_id, now_utc


class StateDetails(Schema):
    """Facts about a state that only some states carry."""

    scheduled_time: datetime | None = None
    cache_key: str | None = None
    cache_expiration: datetime | None = None
    retriable: bool | None = None
    child_flow_run_id: UUID | None = None
    """For the task run that stands for a subflow call: the child flow run."""


class StateCreate(Schema):
    """A state proposed for a run, or recorded for one."""

    id: UUID = Field(default_factory=new_id)
    type: StateType
    name: str | None = None
    timestamp: datetime = Field(default_factory=now_utc)
    message: str | None = None
    data: dict[str, Any] | None = None
    """A reference to the run's persisted result (`ResultRecord` metadata), never the value itself."""
    details: StateDetails = Field(default_factory=StateDetails)


class StateSchema(StateCreate):
    """A stored state."""

    name: str
