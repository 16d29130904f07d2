"""Migration 0002 (deployments, work pools, queues, workers; flow runs learn their deployment) on a store
holding data of 0001, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
import warnings

import sqlalchemy as sa
from deployment_support import deploy, run_of

from headwater.schemas._base import now_utc
from headwater.server.services import flow_runs
from headwater.server.storage import migrate
from headwater.server.storage.database import Database
from headwater.server.storage.migrations import HEAD_REVISION

NEW_TABLES = {"deployments", "deployment_schedules", "work_pools", "work_queues", "workers"}
NEW_COLUMNS = {"deployment_id", "work_queue_id", "idempotency_key", "auto_scheduled"}


def _to(sync: sa.Connection, revision: str, *, down: bool) -> None:
    from alembic import command

    config = migrate.alembic_config(sync)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. SQLAlchemy warning it could not reflect an index
        (command.downgrade if down else command.upgrade)(config, revision)


def _shape(sync: sa.Connection) -> tuple[set[str], set[str], set[str]]:
    inspector = sa.inspect(sync)
    tables = set(inspector.get_table_names())
    columns = {column["name"] for column in inspector.get_columns("flow_runs")}
    if sync.dialect.name == "sqlite":
        indexes = set(sync.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
    else:
        indexes = set(
            sync.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()").scalars()
        )
    return tables, columns, indexes


async def test_0001_data_survives_the_upgrade_and_deployment_runs_survive_a_downgrade(db: Database) -> None:
    # A deployment run of head, then down to 0001: the run stays, without what 0001 did not know.
    deployment = await deploy(db)
    deployed_run = await run_of(db, deployment)
    async with db.write() as conn:
        await conn.run_sync(_to, "0001", down=True)
        tables, columns, indexes = await conn.run_sync(_shape)
        assert not NEW_TABLES & tables and not NEW_COLUMNS & columns
        assert {"ix_flow_runs__start_order", "ix_flow_runs__state_type_start_order"} <= indexes  # 0001's stay
        # A run written by a 0001 server.
        now = now_utc()
        flow_id, run_id = uuid.uuid4(), uuid.uuid4()
        flows = sa.table(
            "flows",
            sa.column("id", sa.Uuid),
            sa.column("name"),
            sa.column("tags", sa.JSON),
            sa.column("created"),
            sa.column("updated"),
        )
        await conn.execute(sa.insert(flows).values(id=flow_id, name="old", tags=[], created=now, updated=now))
        runs = sa.table(
            "flow_runs",
            sa.column("id", sa.Uuid),
            sa.column("name"),
            sa.column("flow_id", sa.Uuid),
            sa.column("parameters", sa.JSON),
            sa.column("tags", sa.JSON),
            sa.column("created"),
            sa.column("updated"),
        )
        await conn.execute(
            sa.insert(runs).values(
                id=run_id, name="old-run", flow_id=flow_id, parameters={}, tags=[], created=now, updated=now
            )
        )
    async with db.write() as conn:
        await conn.run_sync(_to, "head", down=False)
        tables, columns, indexes = await conn.run_sync(_shape)
    assert tables >= NEW_TABLES and columns >= NEW_COLUMNS
    assert {
        "ix_flow_runs__work_queue_id_state_type_expected_start_time",
        "ix_flow_runs__deployment_id_state_type",
        "uq_flow_runs__deployment_id_idempotency_key",
        "ix_flow_runs__start_order",
    } <= indexes
    assert await db.current_revision() == HEAD_REVISION == "0002"
    old = await flow_runs.read_flow_run(db, run_id)
    assert (old.name, old.flow_name, old.deployment_id, old.auto_scheduled, old.idempotency_key) == (
        "old-run",
        "old",
        None,
        False,
        None,
    )
    kept = await flow_runs.read_flow_run(db, deployed_run.id)
    assert kept.deployment_id is None and kept.name == deployed_run.name
    # The store works at head again.
    assert (await run_of(db, await deploy(db))).deployment_name == "nightly"
