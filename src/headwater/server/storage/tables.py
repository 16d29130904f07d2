"""The tables, in SQLAlchemy Core. This module describes the schema at the head migration; the schema itself
only ever changes through a migration in `migrations/versions`, and a test checks the two agree.

Links between runs (a task run's flow run, a subflow's parent task run, a log's runs) are plain indexed
columns, not foreign keys: the SDK records runs from several processes and batches, and a child may reach
the store before its parent. States do have foreign keys to their run (with ON DELETE CASCADE): services
only insert a state once its run exists.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from headwater.schemas._base import now_utc
from headwater.server.storage.types import JSON, Timestamp

# Named constraints let later migrations drop or alter them, which SQLite's batch mode needs.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s__%(column_0_N_name)s",
    "uq": "uq_%(table_name)s__%(column_0_N_name)s",
    "ck": "ck_%(table_name)s__%(constraint_name)s",
    "fk": "fk_%(table_name)s__%(column_0_N_name)s__%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

STATE_TYPE_LENGTH = 20


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.Uuid, primary_key=True)


def _created_updated() -> list[sa.Column[Any]]:
    """`created` and `updated`, filled on insert and update by Core statements (also in executemany)."""
    return [
        sa.Column("created", Timestamp, nullable=False, default=now_utc),
        sa.Column("updated", Timestamp, nullable=False, default=now_utc, onupdate=now_utc),
    ]


def _current_state() -> list[sa.Column[Any]]:
    """A run's current state: a few columns to filter and sort on, and a JSON copy for quick reads."""
    return [
        sa.Column("state_id", sa.Uuid, nullable=True),
        sa.Column("state_type", sa.String(STATE_TYPE_LENGTH), nullable=True),
        sa.Column("state_name", sa.String, nullable=True),
        sa.Column("state_timestamp", Timestamp, nullable=True),
        sa.Column("state", JSON, nullable=True),
    ]


def _state_history(name: str, run_table: str, run_column: str) -> sa.Table:
    """A table holding every state a run went through."""
    return sa.Table(
        name,
        metadata,
        _id(),
        sa.Column(
            run_column,
            sa.Uuid,
            sa.ForeignKey(f"{run_table}.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("type", sa.String(STATE_TYPE_LENGTH), nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("timestamp", Timestamp, nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("data", JSON, nullable=True),
        sa.Column("details", JSON, nullable=False),
        *_created_updated(),
        sa.Index(f"ix_{name}__{run_column}_timestamp", run_column, "timestamp"),
    )


flows = sa.Table(
    "flows",
    metadata,
    _id(),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("tags", JSON, nullable=False, default=list),
    *_created_updated(),
)

flow_runs = sa.Table(
    "flow_runs",
    metadata,
    _id(),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("flow_id", sa.Uuid, sa.ForeignKey("flows.id"), nullable=False),
    sa.Column("parent_task_run_id", sa.Uuid, nullable=True),
    sa.Column("parameters", JSON, nullable=False, default=dict),
    sa.Column("tags", JSON, nullable=False, default=list),
    *_current_state(),
    sa.Column("run_count", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("expected_start_time", Timestamp, nullable=True),
    sa.Column("start_time", Timestamp, nullable=True),
    sa.Column("end_time", Timestamp, nullable=True),
    sa.Column("heartbeat", Timestamp, nullable=True),
    *_created_updated(),
    # Deployment runs (migration 0002). Plain columns, no foreign keys: a run outlives its deployment and
    # its queue, and keeps saying where it came from.
    sa.Column("deployment_id", sa.Uuid, nullable=True),
    sa.Column("work_queue_id", sa.Uuid, nullable=True),
    sa.Column("idempotency_key", sa.String, nullable=True),
    sa.Column("auto_scheduled", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
)

# The default listing order (newest first): runs that have not started sort by when they are expected to.
# The ORDER BY of `services.flow_runs` uses this exact expression so both dialects can walk the index.
FLOW_RUN_START_ORDER = sa.func.coalesce(flow_runs.c.start_time, flow_runs.c.expected_start_time)

# "start order" indexes end in (coalesce(...), id): the listing order. Led by a column, they also serve
# filters on it (all runs of a flow, all FAILED runs) without sorting the matches.
sa.Index("ix_flow_runs__start_order", FLOW_RUN_START_ORDER, flow_runs.c.id)
sa.Index("ix_flow_runs__state_type_start_order", flow_runs.c.state_type, FLOW_RUN_START_ORDER, flow_runs.c.id)
sa.Index("ix_flow_runs__flow_id_start_order", flow_runs.c.flow_id, FLOW_RUN_START_ORDER, flow_runs.c.id)
sa.Index("ix_flow_runs__parent_task_run_id", flow_runs.c.parent_task_run_id)
sa.Index("ix_flow_runs__name_id", flow_runs.c.name, flow_runs.c.id)
sa.Index("ix_flow_runs__created_id", flow_runs.c.created, flow_runs.c.id)
# Workers ask for the due SCHEDULED runs of their queues, and concurrency limits count a queue's active runs.
sa.Index(
    "ix_flow_runs__work_queue_id_state_type_expected_start_time",
    flow_runs.c.work_queue_id,
    flow_runs.c.state_type,
    flow_runs.c.expected_start_time,
)
sa.Index("ix_flow_runs__deployment_id_state_type", flow_runs.c.deployment_id, flow_runs.c.state_type)
# A run created again with the same key for the same deployment is the first one. NULLs are distinct on
# both dialects, so runs without a key (or without a deployment) never clash.
sa.Index(
    "uq_flow_runs__deployment_id_idempotency_key",
    flow_runs.c.deployment_id,
    flow_runs.c.idempotency_key,
    unique=True,
)

task_runs = sa.Table(
    "task_runs",
    metadata,
    _id(),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("flow_run_id", sa.Uuid, nullable=True),
    sa.Column("task_key", sa.String, nullable=False),
    sa.Column("dynamic_key", sa.String, nullable=False),
    sa.Column("cache_key", sa.String, nullable=True),
    sa.Column("tags", JSON, nullable=False, default=list),
    sa.Column("child_flow_run_id", sa.Uuid, nullable=True),
    *_current_state(),
    sa.Column("run_count", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("start_time", Timestamp, nullable=True),
    sa.Column("end_time", Timestamp, nullable=True),
    *_created_updated(),
)

# Task runs are listed oldest first within a flow run; a run that has not started sorts by creation.
TASK_RUN_START_ORDER = sa.func.coalesce(task_runs.c.start_time, task_runs.c.created)

sa.Index("ix_task_runs__flow_run_id_start_order", task_runs.c.flow_run_id, TASK_RUN_START_ORDER, task_runs.c.id)
sa.Index("ix_task_runs__child_flow_run_id", task_runs.c.child_flow_run_id)

flow_run_states = _state_history("flow_run_states", "flow_runs", "flow_run_id")
task_run_states = _state_history("task_run_states", "task_runs", "task_run_id")

logs = sa.Table(
    "logs",
    metadata,
    # An increasing key records insertion order, which breaks ties between lines with the same timestamp.
    # SQLite only auto-increments an INTEGER PRIMARY KEY, hence the variant.
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("id", sa.Uuid, nullable=False, unique=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("timestamp", Timestamp, nullable=False),
    sa.Column("flow_run_id", sa.Uuid, nullable=True),
    sa.Column("task_run_id", sa.Uuid, nullable=True),
    *_created_updated(),
)

sa.Index("ix_logs__flow_run_id_timestamp_seq", logs.c.flow_run_id, logs.c.timestamp, logs.c.seq)
sa.Index("ix_logs__task_run_id_timestamp_seq", logs.c.task_run_id, logs.c.timestamp, logs.c.seq)

RUN_TABLES: dict[str, tuple[sa.Table, sa.Table, str]] = {
    "flow_run": (flow_runs, flow_run_states, "flow_run_id"),
    "task_run": (task_runs, task_run_states, "task_run_id"),
}
"""For each kind of run: its table, its state history table and the history's run column."""

# -- deployments, work pools, queues, workers (migration 0002) -------------------------------------------
# Here foreign keys do hold: these objects are written by the API one at a time, parents first. Deleting a
# pool deletes its queues and workers; a deployment whose queue goes keeps existing, without a queue.

work_pools = sa.Table(
    "work_pools",
    metadata,
    _id(),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("type", sa.String, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("paused", sa.Boolean, nullable=False, default=False),
    sa.Column("concurrency_limit", sa.Integer, nullable=True),
    # No foreign key: queues point at their pool, and a cycle of keys would complicate every delete.
    sa.Column("default_queue_id", sa.Uuid, nullable=True),
    *_created_updated(),
)

work_queues = sa.Table(
    "work_queues",
    metadata,
    _id(),
    sa.Column("work_pool_id", sa.Uuid, sa.ForeignKey("work_pools.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("priority", sa.Integer, nullable=False, default=1),
    sa.Column("concurrency_limit", sa.Integer, nullable=True),
    sa.Column("paused", sa.Boolean, nullable=False, default=False),
    *_created_updated(),
    sa.UniqueConstraint("work_pool_id", "name"),
)

workers = sa.Table(
    "workers",
    metadata,
    _id(),
    sa.Column("work_pool_id", sa.Uuid, sa.ForeignKey("work_pools.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("last_heartbeat_time", Timestamp, nullable=True),
    sa.Column("heartbeat_interval_seconds", sa.Float, nullable=True),
    *_created_updated(),
    sa.UniqueConstraint("work_pool_id", "name"),
)

deployments = sa.Table(
    "deployments",
    metadata,
    _id(),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("flow_id", sa.Uuid, sa.ForeignKey("flows.id"), nullable=False),
    sa.Column("version", sa.String, nullable=True),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("entrypoint", sa.String, nullable=False),
    sa.Column("path", sa.String, nullable=True),
    sa.Column("source", sa.String, nullable=True),
    sa.Column("parameters", JSON, nullable=False, default=dict),
    sa.Column("parameter_openapi_schema", JSON, nullable=False, default=dict),
    sa.Column("enforce_parameter_schema", sa.Boolean, nullable=False, default=True),
    sa.Column("tags", JSON, nullable=False, default=list),
    sa.Column("work_queue_id", sa.Uuid, sa.ForeignKey("work_queues.id", ondelete="SET NULL"), nullable=True),
    sa.Column("paused", sa.Boolean, nullable=False, default=False),
    sa.Column("concurrency_limit", sa.Integer, nullable=True),
    sa.Column("collision_strategy", sa.String(20), nullable=False, default="ENQUEUE"),
    *_created_updated(),
    sa.UniqueConstraint("flow_id", "name"),
)
sa.Index("ix_deployments__work_queue_id", deployments.c.work_queue_id)

deployment_schedules = sa.Table(
    "deployment_schedules",
    metadata,
    _id(),
    sa.Column(
        "deployment_id", sa.Uuid, sa.ForeignKey("deployments.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("schedule", JSON, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    # Schedules are listed in the order they were given (ids are random, and share one `created`).
    sa.Column("position", sa.Integer, nullable=False, default=0),
    *_created_updated(),
)
