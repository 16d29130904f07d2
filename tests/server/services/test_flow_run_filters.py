"""Listing and counting flow runs: every filter, every sort, pages."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from headwater.core.states import StateType
from headwater.schemas.actions import FlowRunCreate, RecordBatch
from headwater.schemas.filters import FlowRunFilter, FlowRunSort
from headwater.server.services import flow_runs, records
from headwater.server.storage.database import Database

if TYPE_CHECKING:
    from conftest import Factory

S = StateType


@pytest.fixture
def runs(db: Database, make: Factory, aio: asyncio.Runner) -> dict[str, FlowRunCreate]:
    """Five flow runs: `a`..`d` top-level, `sub` a subflow of `a`, with varied flows, states and tags."""
    a = make.flow_run("etl", make.state(S.RUNNING, 30), name="alpha-1", tags=["prod", "nightly"])
    b = make.flow_run("etl", make.state(S.PENDING, 10), name="beta_2", tags=["prod"])
    c = make.flow_run("report", make.state(S.RUNNING, 20), name="Gamma", tags=["dev", "nightly"])
    d = make.flow_run("report", make.state(S.SCHEDULED, 5), name="delta%")
    call = make.task_run(a.id, make.state(S.RUNNING, 31))
    sub = make.flow_run("child", make.state(S.RUNNING, 40), name="alpha-sub", parent_task_run_id=call.id)
    batch = RecordBatch(
        flow_runs=[a, b, c, d, sub],
        task_runs=[call],
        flow_run_states=[make.record(c.id, make.state(S.COMPLETED, 50, name="Cached"), run_count=1)],
    )
    aio.run(records.record_batch(db, batch))
    return {"a": a, "b": b, "c": c, "d": d, "sub": sub}


async def _names(db: Database, **filter_fields: object) -> list[str]:
    found = await flow_runs.read_flow_runs(db, FlowRunFilter.model_validate(filter_fields))
    count = await flow_runs.count_flow_runs(db, FlowRunFilter.model_validate(filter_fields))
    assert count == len(found) or "limit" in filter_fields or "offset" in filter_fields
    return [run.name for run in found]


async def test_default_order_is_newest_start_first(db: Database, runs: dict[str, FlowRunCreate]) -> None:
    # start time, or expected start for runs that never ran: sub 40, a 30, c 20, b 10, d 5
    assert await _names(db) == ["alpha-sub", "alpha-1", "Gamma", "beta_2", "delta%"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (FlowRunSort.START_TIME_ASC, ["delta%", "beta_2", "Gamma", "alpha-1", "alpha-sub"]),
        (FlowRunSort.NAME_ASC, ["Gamma", "alpha-1", "alpha-sub", "beta_2", "delta%"]),
    ],
)
async def test_sorts(db: Database, runs: dict[str, FlowRunCreate], sort: FlowRunSort, expected: list[str]) -> None:
    assert await _names(db, sort=sort) == expected


async def test_created_desc_breaks_ties_by_id(db: Database, runs: dict[str, FlowRunCreate]) -> None:
    # One batch: the same `created` for all, so the order is by id, descending.
    expected = [r.name for r in sorted(runs.values(), key=lambda r: r.id, reverse=True)]
    assert await _names(db, sort=FlowRunSort.CREATED_DESC) == expected


@pytest.mark.parametrize(
    ("filter_fields", "expected"),
    [
        ({"flow_name": ["etl"]}, {"alpha-1", "beta_2"}),
        ({"flow_name": ["report", "child"]}, {"Gamma", "delta%", "alpha-sub"}),
        ({"name_like": "ALPHA"}, {"alpha-1", "alpha-sub"}),
        ({"name_like": "_"}, {"beta_2"}),  # wildcards in the pattern are literal characters
        ({"name_like": "%"}, {"delta%"}),
        ({"state_type": ["RUNNING"]}, {"alpha-1", "alpha-sub"}),
        ({"state_type": ["COMPLETED", "SCHEDULED"]}, {"Gamma", "delta%"}),
        ({"state_name": ["Cached"]}, {"Gamma"}),
        ({"tags_all": ["nightly"]}, {"alpha-1", "Gamma"}),
        ({"tags_all": ["prod", "nightly"]}, {"alpha-1"}),
        ({"tags_all": ["prod", "dev"]}, set()),
        ({"is_subflow": True}, {"alpha-sub"}),
        ({"is_subflow": False}, {"alpha-1", "beta_2", "Gamma", "delta%"}),
        ({"flow_name": ["etl"], "state_type": ["PENDING"]}, {"beta_2"}),
    ],
)
async def test_filters(
    db: Database, runs: dict[str, FlowRunCreate], filter_fields: dict[str, object], expected: set[str]
) -> None:
    assert set(await _names(db, **filter_fields)) == expected


async def test_filter_by_id_and_parent(db: Database, runs: dict[str, FlowRunCreate]) -> None:
    assert await _names(db, id=[runs["b"].id, runs["d"].id]) == ["beta_2", "delta%"]
    assert await _names(db, parent_flow_run_id=runs["a"].id) == ["alpha-sub"]
    assert await _names(db, parent_flow_run_id=runs["b"].id) == []


async def test_pages_cover_every_run_once(db: Database, runs: dict[str, FlowRunCreate]) -> None:
    pages = [await _names(db, limit=2, offset=offset) for offset in (0, 2, 4, 6)]
    assert pages == [["alpha-sub", "alpha-1"], ["Gamma", "beta_2"], ["delta%"], []]
    assert await flow_runs.count_flow_runs(db, FlowRunFilter(limit=1, offset=3)) == 5
