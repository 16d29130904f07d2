"""Deployments and their schedules, work pools, work queues and workers; flow runs learn where they came from.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from headwater.server.storage.types import JSON, Timestamp

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FLOW_RUN_INDEXES: dict[str, tuple[list[str], bool]] = {
    "ix_flow_runs__work_queue_id_state_type_expected_start_time": (
        ["work_queue_id", "state_type", "expected_start_time"],
        False,
    ),
    "ix_flow_runs__deployment_id_state_type": (["deployment_id", "state_type"], False),
    "uq_flow_runs__deployment_id_idempotency_key": (["deployment_id", "idempotency_key"], True),
}


def _created_updated() -> list[sa.Column[Any]]:
    return [
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "work_pools",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("default_queue_id", sa.Uuid(), nullable=True),
        *_created_updated(),
        sa.PrimaryKeyConstraint("id", name="pk_work_pools"),
        sa.UniqueConstraint("name", name="uq_work_pools__name"),
    )
    op.create_table(
        "work_queues",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_pool_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        *_created_updated(),
        sa.PrimaryKeyConstraint("id", name="pk_work_queues"),
        sa.UniqueConstraint("work_pool_id", "name", name="uq_work_queues__work_pool_id_name"),
        sa.ForeignKeyConstraint(
            ["work_pool_id"], ["work_pools.id"], name="fk_work_queues__work_pool_id__work_pools", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("work_pool_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("last_heartbeat_time", Timestamp(), nullable=True),
        sa.Column("heartbeat_interval_seconds", sa.Float(), nullable=True),
        *_created_updated(),
        sa.PrimaryKeyConstraint("id", name="pk_workers"),
        sa.UniqueConstraint("work_pool_id", "name", name="uq_workers__work_pool_id_name"),
        sa.ForeignKeyConstraint(
            ["work_pool_id"], ["work_pools.id"], name="fk_workers__work_pool_id__work_pools", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.String(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("entrypoint", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("parameters", JSON(), nullable=False),
        sa.Column("parameter_openapi_schema", JSON(), nullable=False),
        sa.Column("enforce_parameter_schema", sa.Boolean(), nullable=False),
        sa.Column("tags", JSON(), nullable=False),
        sa.Column("work_queue_id", sa.Uuid(), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("collision_strategy", sa.String(20), nullable=False),
        *_created_updated(),
        sa.PrimaryKeyConstraint("id", name="pk_deployments"),
        sa.UniqueConstraint("flow_id", "name", name="uq_deployments__flow_id_name"),
        sa.ForeignKeyConstraint(["flow_id"], ["flows.id"], name="fk_deployments__flow_id__flows"),
        sa.ForeignKeyConstraint(
            ["work_queue_id"],
            ["work_queues.id"],
            name="fk_deployments__work_queue_id__work_queues",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_deployments__work_queue_id", "deployments", ["work_queue_id"])
    op.create_table(
        "deployment_schedules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("schedule", JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_created_updated(),
        sa.PrimaryKeyConstraint("id", name="pk_deployment_schedules"),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name="fk_deployment_schedules__deployment_id__deployments",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_deployment_schedules__deployment_id", "deployment_schedules", ["deployment_id"])

    # Nullable columns, and one with a server default, are added by a plain ALTER on both dialects. Not in
    # batch mode: on SQLite it reflects the table first, and reflection cannot carry 0001's expression
    # indexes (nor does it need to: SQLite adds such columns in place).
    op.add_column("flow_runs", sa.Column("deployment_id", sa.Uuid(), nullable=True))
    op.add_column("flow_runs", sa.Column("work_queue_id", sa.Uuid(), nullable=True))
    op.add_column("flow_runs", sa.Column("idempotency_key", sa.String(), nullable=True))
    op.add_column("flow_runs", sa.Column("auto_scheduled", sa.Boolean(), nullable=False, server_default=sa.false()))
    for name, (columns, unique) in _FLOW_RUN_INDEXES.items():
        op.create_index(name, "flow_runs", columns, unique=unique)


def downgrade() -> None:
    for name in _FLOW_RUN_INDEXES:
        op.drop_index(name, table_name="flow_runs")
    columns = ("deployment_id", "work_queue_id", "idempotency_key", "auto_scheduled")
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode would rebuild `flow_runs` from its reflection, which cannot carry 0001's expression
        # indexes; SQLite (3.35+) drops unindexed columns in place.
        for column in columns:
            op.execute(f"ALTER TABLE flow_runs DROP COLUMN {column}")
    else:
        for column in columns:
            op.drop_column("flow_runs", column)
    for table in ("deployment_schedules", "deployments", "workers", "work_queues", "work_pools"):
        op.drop_table(table)
