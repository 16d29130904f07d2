"""The `Database`: column types, transactions, insert-ignore, and URLs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from headwater.server.storage.database import Database
from headwater.server.storage.tables import flow_runs, flows


async def _insert_flow(db: Database, name: str = "etl", **values: object) -> uuid.UUID:
    flow_id = uuid.uuid4()
    async with db.write() as conn:
        await conn.execute(sa.insert(flows), [{"id": flow_id, "name": name, "tags": [], **values}])
    return flow_id


async def _insert_run(db: Database, **values: object) -> uuid.UUID:
    flow_id = await _insert_flow(db, name=f"flow-{uuid.uuid4().hex[:6]}")
    run_id = uuid.uuid4()
    async with db.write() as conn:
        await conn.execute(sa.insert(flow_runs), [{"id": run_id, "name": "r", "flow_id": flow_id, **values}])
    return run_id


async def _read_run(db: Database, run_id: uuid.UUID) -> sa.RowMapping:
    async with db.read() as conn:
        return (await conn.execute(sa.select(flow_runs).where(flow_runs.c.id == run_id))).mappings().one()


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (
            datetime(2025, 1, 1, 12, 0, 0, 123456, tzinfo=UTC),
            datetime(2025, 1, 1, 12, 0, 0, 123456, tzinfo=UTC),
        ),
        (
            datetime(2025, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
            datetime(2025, 1, 1, 12, 0, tzinfo=UTC),
        ),
        (datetime(2025, 1, 1, 12, 0), datetime(2025, 1, 1, 12, 0, tzinfo=UTC)),  # naive is taken as UTC
    ],
)
async def test_timestamps_come_back_timezone_aware_in_utc(db: Database, given: datetime, stored: datetime) -> None:
    run = await _read_run(db, await _insert_run(db, start_time=given))
    assert run["start_time"] == stored
    assert run["start_time"].tzinfo == UTC
    assert run["created"].tzinfo == UTC and run["updated"].tzinfo == UTC


async def test_timestamps_compare_as_times_across_offsets(db: Database) -> None:
    early = await _insert_run(db, start_time=datetime(2025, 1, 1, 13, 0, tzinfo=timezone(timedelta(hours=2))))
    late = await _insert_run(db, start_time=datetime(2025, 1, 1, 12, 0, tzinfo=UTC))
    async with db.read() as conn:
        ordered = (await conn.execute(sa.select(flow_runs.c.id).order_by(flow_runs.c.start_time))).scalars()
        assert list(ordered) == [early, late]


async def test_json_round_trips_and_none_is_sql_null(db: Database) -> None:
    parameters = {"n": 3, "nested": {"xs": [1, 2.5, "a", None, True]}}
    run_id = await _insert_run(db, parameters=parameters, tags=["a", "b"], state=None)
    run = await _read_run(db, run_id)
    assert run["parameters"] == parameters and run["tags"] == ["a", "b"]
    async with db.read() as conn:
        query = sa.select(sa.func.count()).select_from(flow_runs).where(flow_runs.c.state.is_(None))
        assert (await conn.execute(query)).scalar_one() == 1


async def test_a_write_block_that_raises_is_rolled_back(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute(sa.insert(flows), [{"id": uuid.uuid4(), "name": "etl", "tags": []}])
            raise RuntimeError("boom")
    async with db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(flows))).scalar_one() == 0


async def test_insert_ignore_skips_rows_that_exist(db: Database) -> None:
    flow_id = await _insert_flow(db, "etl")
    rows = [
        {"id": flow_id, "name": "etl", "tags": []},  # same id
        {"id": uuid.uuid4(), "name": "etl", "tags": []},  # same unique name
        {"id": uuid.uuid4(), "name": "other", "tags": []},
    ]
    async with db.write() as conn:
        await conn.execute(db.insert_ignore(flows), rows)
    async with db.read() as conn:
        names = (await conn.execute(sa.select(flows.c.name).order_by(flows.c.name))).scalars()
        assert list(names) == ["etl", "other"]


def test_plain_urls_get_async_drivers() -> None:
    assert Database("sqlite:////tmp/x.db").url.drivername == "sqlite+aiosqlite"
    assert Database("postgresql://u@h/db").url.drivername == "postgresql+asyncpg"
    assert Database("postgresql+asyncpg://u@h/db").dialect_name == "postgresql"
    assert "secret" not in repr(Database("postgresql://u:secret@h/db"))


async def test_using_a_database_before_open_says_so() -> None:
    db = Database("sqlite:////tmp/never-opened.db")
    with pytest.raises(RuntimeError, match="not open"):
        async with db.write():
            pass


async def test_open_twice_and_reopen_after_close(db: Database) -> None:
    await db.open()
    await db.close()
    await db.open()
    assert db.is_open
    await _insert_flow(db)
