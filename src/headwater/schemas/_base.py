"""Base classes and helpers for the wire schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict


def now_utc() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Schema(BaseModel):
    """A wire object: unknown fields are refused so a typo in a request is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ObjectSchema(Schema):
    """A stored object: a UUID id and creation/update times."""

    id: UUID
    created: datetime | None = None
    updated: datetime | None = None


def new_id() -> UUID:
    """A fresh random id; clients may choose ids themselves so retried writes stay idempotent."""
    return uuid4()
