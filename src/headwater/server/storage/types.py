"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pydantic_core
import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine


class Timestamp(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every dialect.

    PostgreSQL stores `timestamptz`. SQLite has no time zones: values are converted to UTC and stored
    without an offset (in SQLAlchemy's fixed-width text format, so text order is time order), and UTC is
    attached again on read. A naive datetime is taken to be UTC already.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name == "sqlite":
            # The hot path writes tens of thousands of timestamps per batch: one C-level isoformat instead
            # of SQLAlchemy's generic formatting, same text ('2025-01-01 12:00:00.000000').
            return _sqlite_text
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], datetime | None] | None:
        if dialect.name == "sqlite":
            return _sqlite_datetime
        return super().result_processor(dialect, coltype)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC and value.tzinfo is not None:
        value = value.astimezone(UTC)
    # The text `isoformat(sep=" ", timespec="microseconds")` gives for the naive UTC time, written out:
    # the hot write path converts tens of thousands of timestamps per batch, and this takes 30% less
    # than isoformat (which also needs a naive copy first), the SDK's timestamps being UTC already.
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # noqa: UP031 (faster than format specifiers here)
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


def _aware_utc(value: datetime | None) -> datetime | None:
    """What `Timestamp` hands asyncpg for a `timestamptz`."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


class JSON(sa.TypeDecorator[Any]):
    """JSON: `jsonb` on PostgreSQL (indexable, `@>` containment), JSON text elsewhere.

    Python `None` is stored as SQL NULL, not as the JSON literal `null`, so `IS NULL` finds it.
    """

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            # Imported here: the embedded (SQLite) store need not pay for the PostgreSQL dialect.
            from sqlalchemy.dialects import postgresql

            return dialect.type_descriptor(postgresql.JSONB(none_as_null=True))
        return dialect.type_descriptor(sa.JSON(none_as_null=True))


def json_dumps(value: Any) -> str:
    """JSON text as the store keeps it (the engines' `json_serializer`, and `DriverFormat.json`)."""
    # pydantic-core serialises UUIDs, datetimes and models natively, and fast; anything else is stored as
    # its str() rather than failing a whole batch over one odd parameter value.
    return pydantic_core.to_json(value, fallback=str).decode()


def _sqlite_uuid(value: UUID | None) -> str | None:
    # What `sa.Uuid` stores where there is no native UUID type: 32 lower-case hex digits.
    return None if value is None else value.hex


def _native_uuid(value: UUID | None) -> UUID | None:
    return value


@dataclass(frozen=True, slots=True)
class DriverFormat:
    """The values the driver takes for our column types, exactly as SQLAlchemy's bind processing would hand
    them over (`sa.Uuid`, `Timestamp`, `JSON` with None as SQL NULL).

    For the few bulk statements of the hot write path (`services.records`), which convert every value of
    a batch in one pass and execute through the driver: SQLAlchemy's per-row, per-column processors cost
    more than the database's own work there.
    """

    dialect_name: str
    uuid: Callable[[UUID | None], Any]
    timestamp: Callable[[datetime | None], Any]
    """A timezone-aware (or naive UTC) datetime; None stays None."""
    json: Callable[[Any], str]
    """JSON text of a value that is not None (None must be passed as None, for SQL NULL)."""


_DRIVER_FORMATS = {
    "sqlite": DriverFormat("sqlite", _sqlite_uuid, _sqlite_text, json_dumps),
    # asyncpg takes UUIDs and aware datetimes natively; SQLAlchemy's jsonb codec for asyncpg takes text.
    "postgresql": DriverFormat("postgresql", _native_uuid, _aware_utc, json_dumps),
}


def driver_format(dialect_name: str) -> DriverFormat:
    """The `DriverFormat` of `sqlite` or `postgresql`."""
    try:
        return _DRIVER_FORMATS[dialect_name]
    except KeyError:
        raise NotImplementedError(f"no driver format for the {dialect_name} dialect") from None
