"""SQLite specifics: pragmas, write transactions that take the write lock up front, and retries."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from headwater.server.storage import _sqlite
from headwater.server.storage.database import Database, sqlite_url
from headwater.server.storage.tables import flows


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "headwater.db"


async def test_pragmas_are_set_on_every_connection(path: Path) -> None:
    async with Database(sqlite_url(path)) as db, db.read() as conn:
        pragmas = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
        }
    assert pragmas == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 60_000, "foreign_keys": 1}


async def test_open_creates_the_folder_and_the_file(path: Path) -> None:
    async with Database(sqlite_url(path)):
        pass
    assert path.is_file()


def _try_begin_immediate(path: Path) -> str:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return "free"
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        other.close()


async def test_a_write_transaction_holds_the_write_lock_from_its_start(path: Path) -> None:
    async with Database(sqlite_url(path)) as db:
        async with db.write() as conn:
            await conn.execute(sa.select(1))  # a read only: the lock must be held already
            assert _try_begin_immediate(path) == "database is locked"
        assert _try_begin_immediate(path) == "free"


async def test_a_read_transaction_takes_no_write_lock(path: Path) -> None:
    async with Database(sqlite_url(path)) as db, db.read() as conn:
        await conn.execute(sa.select(flows.c.id))
        assert _try_begin_immediate(path) == "free"


async def test_a_write_retries_when_the_lock_outlasts_the_busy_timeout(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sqlite, "BUSY_TIMEOUT_MS", 20)
    async with Database(sqlite_url(path)) as db:
        # Committed from a timer thread, hence check_same_thread=False.
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, holder.execute, ["COMMIT"])
        release.start()
        started = time.perf_counter()
        try:
            async with db.write() as conn:
                await conn.execute(sa.insert(flows), [{"id": uuid.uuid4(), "name": "etl", "tags": []}])
        finally:
            release.join()
            holder.close()
        assert time.perf_counter() - started >= 0.25


async def test_a_write_gives_up_after_its_retries(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sqlite, "BUSY_TIMEOUT_MS", 1)
    monkeypatch.setattr("headwater.server.storage.database.WRITE_RETRIES", 1)
    async with Database(sqlite_url(path)) as db:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(sa.exc.OperationalError, match="database is locked"):
                async with db.write():
                    pass
        finally:
            holder.execute("ROLLBACK")
            holder.close()
