"""Fixtures for the server's storage and services: a `db` on SQLite and on PostgreSQL alike, a loop that
runs `async def` tests, and `make`, a factory of schema objects.

PostgreSQL: the server on 127.0.0.1:5432 (trust auth). One throw-away database is created per session
(`headwater_test_<random>`, through the `test` database) and dropped at the end; tables are emptied
before each test. Override with `HEADWATER_TEST_PG_ADMIN_URL`; deselect with `-m "not postgres"`.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from headwater.core.states import StateType
from headwater.schemas.actions import FlowRunCreate, RunStateRecord, TaskRunCreate
from headwater.schemas.states import StateCreate, StateDetails
from headwater.server.storage.database import Database, sqlite_url
from headwater.server.storage.tables import metadata

PG_ADMIN_URL = os.environ.get("HEADWATER_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def aio() -> Iterator[asyncio.Runner]:
    """The event loop of the test: `async def` tests and the fixtures they use all run on it."""
    with asyncio.Runner() as runner:
        yield runner


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests on the `aio` loop (the project does not use pytest-asyncio)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    runner: asyncio.Runner = pyfuncitem.funcargs["aio"]
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    runner.run(pyfuncitem.obj(**kwargs))
    return True


async def _admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, dropped at the end."""
    name = f"headwater_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({exc}); deselect with -m 'not postgres'")
    yield str(sa.make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name))
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file, copied for each test rather than migrated again."""
    path = tmp_path_factory.mktemp("template") / "headwater.db"

    async def migrate() -> None:
        async with Database(sqlite_url(path)):
            pass  # closing the last connection checkpoints the WAL into the file

    asyncio.run(migrate())
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated store: a fresh SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "headwater.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return sqlite_url(path)
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def db(db_url: str, aio: asyncio.Runner) -> Iterator[Database]:
    """An open, migrated, empty store."""
    database = Database(db_url)
    aio.run(database.open())
    if database.dialect_name == "postgresql":
        aio.run(_empty(database))
    yield database
    aio.run(database.close())


async def _empty(db: Database) -> None:
    # DELETE, not TRUNCATE: on tables this small it is many times faster.
    async with db.write() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


class Factory:
    """Schema objects for tests, with times given in seconds after `T0`."""

    T0 = T0

    def at(self, seconds: float) -> datetime:
        """`T0` plus some seconds."""
        return T0 + timedelta(seconds=seconds)

    def state(self, type_: StateType, at: float = 0, **kwargs: Any) -> StateCreate:
        """A state of this type, `at` seconds after `T0`."""
        details = kwargs.pop("details", None) or StateDetails()
        return StateCreate(type=type_, timestamp=self.at(at), details=details, **kwargs)

    def flow_run(self, flow_name: str = "etl", state: StateCreate | None = None, **kwargs: Any) -> FlowRunCreate:
        """A flow run to create."""
        kwargs.setdefault("name", f"run-{uuid.uuid4().hex[:6]}")
        return FlowRunCreate(flow_name=flow_name, state=state, **kwargs)

    def task_run(self, flow_run_id: uuid.UUID | None, state: StateCreate | None = None, **kwargs: Any) -> TaskRunCreate:
        """A task run to create."""
        kwargs.setdefault("name", "add-0")
        kwargs.setdefault("task_key", "add")
        kwargs.setdefault("dynamic_key", str(uuid.uuid4()))
        return TaskRunCreate(flow_run_id=flow_run_id, state=state, **kwargs)

    def record(self, run_id: uuid.UUID, state: StateCreate, run_count: int | None = None) -> RunStateRecord:
        """A recorded state of a run."""
        return RunStateRecord(run_id=run_id, state=state, run_count=run_count)


@pytest.fixture
def make() -> Factory:
    """Builds flow runs, task runs and states for tests."""
    return Factory()
