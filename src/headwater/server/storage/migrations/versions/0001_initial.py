"""Flows, flow runs, task runs, their state histories, and logs.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from headwater.server.storage.types import JSON, Timestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _created_updated() -> list[sa.Column[Any]]:
    return [
        sa.Column("created", Timestamp(), nullable=False),
        sa.Column("updated", Timestamp(), nullable=False),
    ]


def _current_state() -> list[sa.Column[Any]]:
    return [
        sa.Column("state_id", sa.Uuid(), nullable=True),
        sa.Column("state_type", sa.String(20), nullable=True),
        sa.Column("state_name", sa.String(), nullable=True),
        sa.Column("state_timestamp", Timestamp(), nullable=True),
        sa.Column("state", JSON(), nullable=True),
    ]


def _create_state_history(name: str, run_table: str, run_column: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(run_column, sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("timestamp", Timestamp(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("data", JSON(), nullable=True),
        sa.Column("details", JSON(), nullable=False),
        *_created_updated(),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        sa.ForeignKeyConstraint(
            [run_column],
            [f"{run_table}.id"],
            name=f"fk_{name}__{run_column}__{run_table}",
            ondelete="CASCADE",
        ),
    )
    op.create_index(f"ix_{name}__{run_column}_timestamp", name, [run_column, "timestamp"])


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("tags", JSON(), nullable=False),
        *_created_updated(),
        sa.PrimaryKeyConstraint("id", name="pk_flows"),
        sa.UniqueConstraint("name", name="uq_flows__name"),
    )
    op.create_table(
        "flow_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("parent_task_run_id", sa.Uuid(), nullable=True),
        sa.Column("parameters", JSON(), nullable=False),
        sa.Column("tags", JSON(), nullable=False),
        *_current_state(),
        sa.Column("run_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("expected_start_time", Timestamp(), nullable=True),
        sa.Column("start_time", Timestamp(), nullable=True),
        sa.Column("end_time", Timestamp(), nullable=True),
        sa.Column("heartbeat", Timestamp(), nullable=True),
        *_created_updated(),
        sa.PrimaryKeyConstraint("id", name="pk_flow_runs"),
        sa.ForeignKeyConstraint(["flow_id"], ["flows.id"], name="fk_flow_runs__flow_id__flows"),
    )
    start_order = sa.text("coalesce(start_time, expected_start_time)")
    op.create_index("ix_flow_runs__start_order", "flow_runs", [start_order, "id"])
    op.create_index("ix_flow_runs__state_type_start_order", "flow_runs", ["state_type", start_order, "id"])
    op.create_index("ix_flow_runs__flow_id_start_order", "flow_runs", ["flow_id", start_order, "id"])
    op.create_index("ix_flow_runs__parent_task_run_id", "flow_runs", ["parent_task_run_id"])
    op.create_index("ix_flow_runs__name_id", "flow_runs", ["name", "id"])
    op.create_index("ix_flow_runs__created_id", "flow_runs", ["created", "id"])

    op.create_table(
        "task_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("task_key", sa.String(), nullable=False),
        sa.Column("dynamic_key", sa.String(), nullable=False),
        sa.Column("cache_key", sa.String(), nullable=True),
        sa.Column("tags", JSON(), nullable=False),
        sa.Column("child_flow_run_id", sa.Uuid(), nullable=True),
        *_current_state(),
        sa.Column("run_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("start_time", Timestamp(), nullable=True),
        sa.Column("end_time", Timestamp(), nullable=True),
        *_created_updated(),
        sa.PrimaryKeyConstraint("id", name="pk_task_runs"),
    )
    op.create_index(
        "ix_task_runs__flow_run_id_start_order",
        "task_runs",
        ["flow_run_id", sa.text("coalesce(start_time, created)"), "id"],
    )
    op.create_index("ix_task_runs__child_flow_run_id", "task_runs", ["child_flow_run_id"])

    _create_state_history("flow_run_states", "flow_runs", "flow_run_id")
    _create_state_history("task_run_states", "task_runs", "task_run_id")

    op.create_table(
        "logs",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("timestamp", Timestamp(), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("task_run_id", sa.Uuid(), nullable=True),
        *_created_updated(),
        sa.PrimaryKeyConstraint("seq", name="pk_logs"),
        sa.UniqueConstraint("id", name="uq_logs__id"),
    )
    op.create_index("ix_logs__flow_run_id_timestamp_seq", "logs", ["flow_run_id", "timestamp", "seq"])
    op.create_index("ix_logs__task_run_id_timestamp_seq", "logs", ["task_run_id", "timestamp", "seq"])


def downgrade() -> None:
    for table in ("logs", "task_run_states", "flow_run_states", "task_runs", "flow_runs", "flows"):
        op.drop_table(table)
