"""Log lines: bulk, idempotent, read in the order they were emitted."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from headwater.schemas.actions import LogCreate
from headwater.schemas.filters import LogFilter
from headwater.server.services import logs
from headwater.server.storage.database import Database

if TYPE_CHECKING:
    from conftest import Factory


def _line(make: Factory, message: str, at: float, **kwargs: object) -> LogCreate:
    return LogCreate.model_validate(
        {"name": "headwater", "level": 20, "message": message, "timestamp": make.at(at), **kwargs}
    )


async def test_logs_are_read_by_timestamp_then_insertion(db: Database, make: Factory) -> None:
    lines = [_line(make, m, at) for m, at in [("c", 2), ("a", 1), ("b1", 1.5), ("b2", 1.5), ("b3", 1.5)]]
    await logs.create_logs(db, lines[:3])
    await logs.create_logs(db, lines[3:])
    assert [line.message for line in await logs.read_logs(db, LogFilter())] == ["a", "b1", "b2", "b3", "c"]


async def test_create_logs_is_idempotent(db: Database, make: Factory) -> None:
    lines = [_line(make, str(i), i) for i in range(3)]
    await logs.create_logs(db, lines)
    await logs.create_logs(db, [*lines, _line(make, "new", 9)])
    assert [line.message for line in await logs.read_logs(db, LogFilter())] == ["0", "1", "2", "new"]
    assert (await logs.read_logs(db, LogFilter()))[0].id == lines[0].id


async def test_log_filters_and_pages(db: Database, make: Factory) -> None:
    flow_run_id, task_run_id = uuid.uuid4(), uuid.uuid4()
    await logs.create_logs(
        db,
        [
            _line(make, "flow", 1, flow_run_id=flow_run_id),
            _line(make, "task", 2, flow_run_id=flow_run_id, task_run_id=task_run_id, level=40),
            _line(make, "other", 3, flow_run_id=uuid.uuid4()),
        ],
    )

    async def messages(**fields: object) -> list[str]:
        return [line.message for line in await logs.read_logs(db, LogFilter.model_validate(fields))]

    assert await messages(flow_run_id=[flow_run_id]) == ["flow", "task"]
    assert await messages(task_run_id=[task_run_id]) == ["task"]
    assert await messages(level_ge=30) == ["task"]
    assert await messages(limit=2) == ["flow", "task"] and await messages(offset=2) == ["other"]


async def test_no_lines_is_fine(db: Database) -> None:
    await logs.create_logs(db, [])
    assert await logs.read_logs(db, LogFilter()) == []
