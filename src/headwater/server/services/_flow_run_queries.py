"""How flow runs are selected: the joined columns a `FlowRun` needs, filters and orderings."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from headwater.schemas.filters import FlowRunFilter, FlowRunSort
from headwater.server.storage.tables import (
    FLOW_RUN_START_ORDER,
    deployments,
    flow_runs,
    flows,
    task_runs,
    work_pools,
    work_queues,
)

_parent_task_run = task_runs.alias("parent_task_run")


def select_flow_runs() -> sa.Select[Any]:
    """Every column of a `FlowRun`: the run's own, its flow's name, the flow run of its parent task
    run (for a subflow), and for a deployment run the deployment's, queue's and pool's names. Every join
    is on a primary key, so each costs one lookup per row returned (none for a run without deployment)."""
    return sa.select(
        flow_runs,
        flows.c.name.label("flow_name"),
        _parent_task_run.c.flow_run_id.label("parent_flow_run_id"),
        deployments.c.name.label("deployment_name"),
        work_queues.c.name.label("work_queue_name"),
        work_pools.c.name.label("work_pool_name"),
    ).select_from(
        flow_runs.join(flows, flows.c.id == flow_runs.c.flow_id)
        .outerjoin(_parent_task_run, _parent_task_run.c.id == flow_runs.c.parent_task_run_id)
        .outerjoin(deployments, deployments.c.id == flow_runs.c.deployment_id)
        .outerjoin(work_queues, work_queues.c.id == flow_runs.c.work_queue_id)
        .outerjoin(work_pools, work_pools.c.id == work_queues.c.work_pool_id)
    )


def flow_run_conditions(flow_run_filter: FlowRunFilter, dialect_name: str) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions (all must hold) of a flow run filter, on `flow_runs` alone."""
    f = flow_run_filter
    conditions: list[sa.ColumnElement[bool]] = []
    if f.id is not None:
        conditions.append(flow_runs.c.id.in_(f.id))
    if f.flow_name is not None:
        # A subquery rather than a join: the page query then needs no join to filter. For one name, an
        # equality, so the planner can walk the (flow_id, start order) index instead of sorting the matches.
        if len(f.flow_name) == 1:
            flow_id = sa.select(flows.c.id).where(flows.c.name == f.flow_name[0]).scalar_subquery()
            conditions.append(flow_runs.c.flow_id == flow_id)
        else:
            flow_ids = sa.select(flows.c.id).where(flows.c.name.in_(f.flow_name))
            conditions.append(flow_runs.c.flow_id.in_(flow_ids))
    if f.name_like is not None:
        conditions.append(flow_runs.c.name.icontains(f.name_like, autoescape=True))
    if f.state_type is not None:
        conditions.append(flow_runs.c.state_type.in_([t.value for t in f.state_type]))
    if f.state_name is not None:
        conditions.append(flow_runs.c.state_name.in_(f.state_name))
    if f.tags_all:
        conditions.append(_has_all_tags(f.tags_all, dialect_name))
    if f.parent_flow_run_id is not None:
        # Subflow runs point at the task run standing for their call; that task run is in the parent.
        parent_task_runs = sa.select(task_runs.c.id).where(task_runs.c.flow_run_id == f.parent_flow_run_id)
        conditions.append(flow_runs.c.parent_task_run_id.in_(parent_task_runs))
    if f.is_subflow is not None:
        column = flow_runs.c.parent_task_run_id
        conditions.append(column.is_not(None) if f.is_subflow else column.is_(None))
    if f.created_after is not None:
        conditions.append(flow_runs.c.created >= f.created_after)
    if f.deployment_id is not None:
        conditions.append(flow_runs.c.deployment_id.in_(f.deployment_id))
    if f.work_pool_name is not None:
        pool_queues = (
            sa.select(work_queues.c.id)
            .join(work_pools, work_pools.c.id == work_queues.c.work_pool_id)
            .where(work_pools.c.name.in_(f.work_pool_name))
        )
        conditions.append(flow_runs.c.work_queue_id.in_(pool_queues))
    return conditions


def _has_all_tags(tags: list[str], dialect_name: str) -> sa.ColumnElement[bool]:
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        # jsonb containment: `tags @> '["a", "b"]'`.
        return sa.type_coerce(flow_runs.c.tags, JSONB).contains(tags)
    # SQLite: one EXISTS over the JSON array's elements per tag.
    conditions = []
    for tag in tags:
        elements = sa.func.json_each(flow_runs.c.tags).table_valued("value")
        conditions.append(sa.select(1).select_from(elements).where(elements.c.value == tag).exists())
    return sa.and_(*conditions)


def flow_run_order(sort: FlowRunSort) -> list[sa.ColumnElement[Any]]:
    """ORDER BY terms for a sort, each ending in the id so pages never overlap or skip a run.

    Every ordering matches an index on `flow_runs`, so a page is read without sorting the table.
    """
    if sort is FlowRunSort.START_TIME_DESC:
        return [FLOW_RUN_START_ORDER.desc(), flow_runs.c.id.desc()]
    if sort is FlowRunSort.START_TIME_ASC:
        return [FLOW_RUN_START_ORDER.asc(), flow_runs.c.id.asc()]
    if sort is FlowRunSort.CREATED_DESC:
        return [flow_runs.c.created.desc(), flow_runs.c.id.desc()]
    if sort is FlowRunSort.NAME_ASC:
        return [flow_runs.c.name.asc(), flow_runs.c.id.asc()]
    raise ValueError(f"unknown flow run sort {sort!r}")
