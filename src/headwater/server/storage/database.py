"""The `Database`: one store (SQLite file or PostgreSQL database), its engine, its transactions and its
migrations.

    db = Database("sqlite+aiosqlite:////home/me/.headwater/headwater.db")
    await db.open()          # creates the engine; migrates to head if (and only if) needed
    async with db.write() as conn:
        await conn.execute(...)
    await db.close()
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pydantic_core
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from headwater.server.storage import _sqlite
from headwater.server.storage.migrations import HEAD_REVISION
from headwater.server.storage.types import json_dumps

WRITE_RETRIES = 5
"""How many more times a write transaction tries to start when SQLite still reports a lock after its
busy timeout (a last resort: the busy timeout already waits a minute)."""

# Any fixed 64-bit number will do; derived from a name so it is recognisable in pg_locks.
_PG_MIGRATION_LOCK = zlib.crc32(b"headwater.migrate")

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def _async_url(url: str | URL) -> URL:
    """The URL with an async driver: `sqlite://` and `postgresql://` get aiosqlite and asyncpg."""
    parsed = make_url(url)
    driver = _ASYNC_DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


class Database:
    """A store, SQLite or PostgreSQL, opened lazily and migrated to the head revision when needed.

    Args:
        url: SQLAlchemy URL, e.g. `sqlite+aiosqlite:///path/headwater.db` or
            `postgresql+asyncpg://user@host/db` (plain `sqlite://` and `postgresql://` get async drivers).
        auto_migrate: Whether `open()` migrates an out-of-date store; off, it only connects.
        echo: Log every SQL statement (debugging).
    """

    def __init__(self, url: str | URL, *, auto_migrate: bool = True, echo: bool = False) -> None:
        self.url = _async_url(url)
        self.auto_migrate = auto_migrate
        self._echo = echo
        self._engine: AsyncEngine | None = None
        self._write_engine: AsyncEngine | None = None

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @property
    def dialect_name(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.url.get_dialect().name

    @property
    def engine(self) -> AsyncEngine:
        """The engine; `open()` must have been called."""
        if self._engine is None:
            raise RuntimeError(f"{self!r} is not open: call `await db.open()` first")
        return self._engine

    @property
    def is_open(self) -> bool:
        """Whether `open()` has been called (and `close()` not since)."""
        return self._engine is not None

    async def open(self) -> None:
        """Create the engine and, unless `auto_migrate` is off, migrate the store to the head revision.

        The check is one cheap query; Alembic is only imported when a migration is really due. Opening
        an open database does nothing.
        """
        if self._engine is not None:
            return
        engine = self._create_engine()
        self._engine = engine
        # On SQLite, transactions that will write take the write lock when they begin (see `_sqlite`).
        self._write_engine = engine.execution_options(**{_sqlite.BEGIN_OPTION: "BEGIN IMMEDIATE"})
        if self.auto_migrate and await self.current_revision() != HEAD_REVISION:
            await self.upgrade()

    def _create_engine(self) -> AsyncEngine:
        kwargs: dict[str, Any] = {
            "echo": self._echo,
            "json_serializer": json_dumps,
            # Several times faster than `json.loads` when listing thousands of runs.
            "json_deserializer": pydantic_core.from_json,
        }
        if self.dialect_name == "sqlite":
            path = _sqlite.database_path(self.url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            # The driver must not start transactions itself: we emit BEGIN (IMMEDIATE) ourselves.
            kwargs["connect_args"] = {"isolation_level": None}
            engine = create_async_engine(self.url, **kwargs)
            _sqlite.configure(engine)
            return engine
        return create_async_engine(self.url, **kwargs)

    async def close(self) -> None:
        """Close every connection. The database can be opened again."""
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = self._write_engine = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A short read-only transaction. On SQLite it takes no write lock, and must not write."""
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A short write transaction, committed when the block ends and rolled back if it raises.

        On SQLite the transaction begins with `BEGIN IMMEDIATE`: it waits up to the busy timeout for the
        write lock, and once it holds it nothing inside can fail for locking (in WAL mode a commit needs no
        further lock). So the one place to retry is the BEGIN, which this does a few times with backoff.
        """
        if self._write_engine is None:
            raise RuntimeError(f"{self!r} is not open: call `await db.open()` first")
        conn = await self._begin(self._write_engine)
        try:
            yield conn
            await conn.commit()
        finally:
            await conn.close()  # rolls back when the block raised

    async def _begin(self, engine: AsyncEngine) -> AsyncConnection:
        delay = 0.05
        for attempt in range(WRITE_RETRIES + 1):
            conn: AsyncConnection | None = None
            try:
                # Connecting can wait for a lock too: a new SQLite connection checks the journal mode.
                conn = await engine.connect()
                await conn.begin()
                return conn
            except sa.exc.OperationalError as exc:
                if conn is not None:
                    await conn.close()
                if attempt == WRITE_RETRIES or not _sqlite.is_locked_error(exc):
                    raise
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def insert_ignore(self, table: sa.Table) -> sa.Insert:
        """An INSERT into `table` that skips rows clashing with an existing row (same id or other unique
        key), so writing the same records twice stores them once."""
        return insert_ignore(self.dialect_name, table)

    async def current_revision(self) -> str | None:
        """The store's Alembic revision, None when it has never been migrated."""
        async with self.read() as conn:
            return await _current_revision(conn)

    async def upgrade(self) -> None:
        """Migrate the store to the head revision, if it is not there yet.

        Concurrent callers (threads, processes, server replicas) are serialised: an exclusive lock on
        `<file>.lock` for SQLite, a transaction-scoped advisory lock for PostgreSQL. Whoever gets the lock
        second finds the store migrated and does nothing.
        """
        path = _sqlite.database_path(self.url) if self.dialect_name == "sqlite" else None
        if path is None:
            await self._upgrade_locked()
            return
        async with _sqlite.file_lock(path):
            await self._upgrade_locked()

    async def _upgrade_locked(self) -> None:
        # On SQLite the write transaction alone (BEGIN IMMEDIATE) would serialise migrations too, but a
        # waiter would give up after the busy timeout; the file lock lets it wait out a long migration.
        async with self.write() as conn:
            if self.dialect_name == "postgresql":
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            # Checked again under the lock: whoever held it before us may have migrated already.
            if await _current_revision(conn) == HEAD_REVISION:
                return
            from headwater.server.storage import migrate  # imports Alembic: only when really needed

            await conn.run_sync(migrate.upgrade_to_head)

    async def reset(self) -> None:
        """Drop every table (ours and Alembic's, whatever revision they are at) and migrate afresh.

        Destroys all data: this backs `headwater server database reset`.
        """
        async with self.write() as conn:
            if self.dialect_name == "postgresql":
                await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            await conn.run_sync(_drop_all_tables)
        await self.upgrade()


def insert_ignore(dialect_name: str, table: sa.Table) -> sa.Insert:
    """`INSERT … ON CONFLICT DO NOTHING` for SQLite and PostgreSQL."""
    # Dialect modules are imported on use, so the embedded (SQLite) store never loads PostgreSQL's.
    if dialect_name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect_name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"no insert-ignore for the {dialect_name} dialect")


async def _current_revision(conn: AsyncConnection) -> str | None:
    if not await conn.run_sync(lambda sync: sa.inspect(sync).has_table("alembic_version")):
        return None
    version = sa.table("alembic_version", sa.column("version_num", sa.String))
    return (await conn.execute(sa.select(version.c.version_num))).scalar_one_or_none()


def _drop_all_tables(conn: Connection) -> None:
    # Names come from the database rather than `tables.metadata`, so tables of any revision (or stray
    # ones) go too; dependents first, so foreign keys never block a drop.
    inspector = sa.inspect(conn)
    ordered = [name for name, _ in inspector.get_sorted_table_and_fkc_names() if name is not None]
    preparer = conn.dialect.identifier_preparer
    for name in reversed(ordered):
        conn.exec_driver_sql(f"DROP TABLE {preparer.quote(name)}")


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite+aiosqlite:///{path}"
