"""SQLite specifics: connection pragmas, explicit BEGINs, and the file lock that serialises migrations.

Why explicit BEGINs: Python's sqlite3 driver (under aiosqlite) starts transactions lazily, at the first
write. Two processes that both read and then write can then each hold a read lock and wait forever for
the other's to go, and SQLite answers "database is locked" at once, whatever the busy timeout. We turn the
driver's transaction handling off and begin every write transaction with `BEGIN IMMEDIATE`, which takes
the write lock up front and waits (up to `busy_timeout`) for it; reads use a plain deferred `BEGIN`, which
in WAL mode never waits for writers.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

BUSY_TIMEOUT_MS = 60_000
LOCK_POLL_SECONDS = 0.02
BEGIN_OPTION = "headwater_sqlite_begin"
"""Execution option naming the statement that opens a transaction (`BEGIN` or `BEGIN IMMEDIATE`)."""


def database_path(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    name = url.database
    if not name or name == ":memory:" or name.startswith("file::memory:"):
        return None
    return Path(name.removeprefix("file:")).expanduser()


def configure(engine: AsyncEngine) -> None:
    """Set pragmas on every new connection and emit our own BEGIN statements."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        # The busy timeout first: the statements below may have to wait for another process.
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # WAL lets readers go on while one process writes; the mode is stored in the file, so this is a
        # cheap no-op once set. It cannot be changed inside a transaction, hence here.
        cursor.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL is safe against corruption; a power cut may lose the last commits only.
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Off by default in SQLite; on, so deleting a run removes its states as on PostgreSQL.
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get(BEGIN_OPTION, "BEGIN"))


def is_locked_error(exc: BaseException) -> bool:
    """Whether SQLite gave up waiting for a lock."""
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text


@asynccontextmanager
async def file_lock(database: Path) -> AsyncIterator[None]:
    """Hold an exclusive lock on `<database>.lock`, so one process at a time migrates the file.

    The lock is polled without blocking rather than awaited in a thread: a cancelled wait then leaves no
    thread behind that could take the lock later and never release it. The lock file is never deleted:
    deleting a lock file while another process waits on it breaks the lock.
    """
    database.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(f"{database}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(LOCK_POLL_SECONDS)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
