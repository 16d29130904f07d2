"""Migrations: the head revision, the schema they build on each dialect, and when they run."""

from __future__ import annotations

import subprocess
import sys
import uuid
import warnings
from pathlib import Path

import sqlalchemy as sa

from headwater.server.storage import migrate
from headwater.server.storage.database import Database, sqlite_url
from headwater.server.storage.migrations import HEAD_REVISION
from headwater.server.storage.tables import flows, metadata


def test_head_revision_is_the_scripts_head() -> None:
    assert migrate.script_head() == HEAD_REVISION


async def test_open_migrates_a_fresh_file(tmp_path: Path) -> None:
    async with Database(sqlite_url(tmp_path / "fresh.db")) as db:
        assert await db.current_revision() == HEAD_REVISION
        async with db.read() as conn:
            names = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
    assert {table.name for table in metadata.sorted_tables} <= names


async def test_the_store_is_at_head_with_every_table(db: Database) -> None:
    assert await db.current_revision() == HEAD_REVISION
    async with db.read() as conn:
        names = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
    assert {table.name for table in metadata.sorted_tables} | {"alembic_version"} <= names


async def test_migrated_schema_matches_the_tables_module(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def diff(sync: sa.Connection) -> list[object]:
        context = MigrationContext.configure(sync, opts={"compare_type": True})
        with warnings.catch_warnings():
            # Alembic cannot compare expression indexes (the coalesce() ones) and says so.
            warnings.filterwarnings("ignore", message=".*expression-based index.*")
            warnings.filterwarnings("ignore", message=".*autogenerate skipping.*")
            return list(compare_metadata(context, metadata))

    async with db.read() as conn:
        assert await conn.run_sync(diff) == []


async def test_expression_indexes_exist(db: Database) -> None:
    if db.dialect_name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    async with db.read() as conn:
        names = set((await conn.exec_driver_sql(query)).scalars())
    # Alembic's comparison skips expression indexes, so they are checked by name here.
    assert {
        "ix_flow_runs__start_order",
        "ix_flow_runs__state_type_start_order",
        "ix_flow_runs__flow_id_start_order",
        "ix_task_runs__flow_run_id_start_order",
    } <= names


async def test_every_migration_runs_down_and_up(db: Database) -> None:
    from alembic import command

    def down_and_up(sync: sa.Connection) -> None:
        config = migrate.alembic_config(sync)
        command.downgrade(config, "base")
        assert not {"flows", "flow_runs", "logs"} & set(sa.inspect(sync).get_table_names())
        command.upgrade(config, "head")

    async with db.write() as conn:
        await conn.run_sync(down_and_up)
    assert await db.current_revision() == HEAD_REVISION


async def test_reset_drops_data_and_migrates_again(db: Database) -> None:
    async with db.write() as conn:
        await conn.execute(sa.insert(flows), [{"id": uuid.uuid4(), "name": "etl", "tags": []}])
    await db.reset()
    assert await db.current_revision() == HEAD_REVISION
    async with db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(flows))).scalar_one() == 0


async def test_upgrade_of_a_store_at_head_does_nothing(db: Database) -> None:
    await db.upgrade()
    assert await db.current_revision() == HEAD_REVISION


def test_opening_a_store_at_head_does_not_import_alembic(db_url: str, db: Database) -> None:
    # `db` migrated the store already; a fresh process opening it must not pay for importing Alembic.
    code = (
        "import asyncio, sys\n"
        "from headwater.server.storage.database import Database\n"
        "async def main():\n"
        f"    db = Database({db_url!r})\n"
        "    await db.open()\n"
        "    await db.close()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


async def test_auto_migrate_off_leaves_a_fresh_store_alone(tmp_path: Path) -> None:
    async with Database(sqlite_url(tmp_path / "fresh.db"), auto_migrate=False) as db:
        assert await db.current_revision() is None
