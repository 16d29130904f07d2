"""Listing and counting on a store of 100,000 flow runs: right answers, read a page at a time.

Timings are printed, not asserted (that is `bench/`'s job); the query plans are checked on SQLite, so a
lost index shows up here as a failure rather than as a slow UI.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from headwater.schemas.filters import FlowRunFilter, FlowRunSort
from headwater.server.services import flow_runs
from headwater.server.services._flow_run_queries import flow_run_conditions, flow_run_order, select_flow_runs
from headwater.server.storage.database import Database
from headwater.server.storage.tables import flow_runs as flow_runs_table
from headwater.server.storage.tables import flows

pytestmark = pytest.mark.slow

RUNS = 100_000
T0 = datetime(2025, 1, 1, tzinfo=UTC)
TYPES = ["COMPLETED"] * 8 + ["FAILED", "RUNNING"]  # run i has TYPES[i % 10]; flow-(i % 3) runs it


async def _fill(db: Database) -> None:
    """Run i starts at T0 + i seconds (every 7th has only an expected start, at the same time)."""
    flow_ids = [uuid.uuid4() for _ in range(3)]
    async with db.write() as conn:
        await conn.execute(
            sa.insert(flows), [{"id": f, "name": f"flow-{i}", "tags": []} for i, f in enumerate(flow_ids)]
        )
        for start in range(0, RUNS, 10_000):
            rows: list[dict[str, Any]] = []
            for i in range(start, start + 10_000):
                at = T0 + timedelta(seconds=i)
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "name": f"run-{i:06d}",
                        "flow_id": flow_ids[i % 3],
                        "parameters": {},
                        "tags": [],
                        "state_type": TYPES[i % 10],
                        "state_name": TYPES[i % 10].capitalize(),
                        "expected_start_time": at,
                        "start_time": at if i % 7 else None,
                        "created": at,
                    }
                )
            await conn.execute(sa.insert(flow_runs_table), rows)


def _names(indexes: range | list[int]) -> list[str]:
    return [f"run-{i:06d}" for i in indexes]


CASES: list[tuple[FlowRunFilter, list[str], int]] = [
    (FlowRunFilter(), _names(range(RUNS - 1, RUNS - 201, -1)), RUNS),
    (FlowRunFilter(offset=50_000, limit=50), _names(range(49_999, 49_949, -1)), RUNS),
    (FlowRunFilter(sort=FlowRunSort.START_TIME_ASC, limit=10), _names(range(10)), RUNS),
    (FlowRunFilter(sort=FlowRunSort.CREATED_DESC, limit=10), _names(range(RUNS - 1, RUNS - 11, -1)), RUNS),
    (FlowRunFilter(sort=FlowRunSort.NAME_ASC, limit=10), _names(range(10)), RUNS),
    (FlowRunFilter(state_type=["FAILED"], limit=5), _names([99_998, 99_988, 99_978, 99_968, 99_958]), 10_000),
    (FlowRunFilter(flow_name=["flow-1"], limit=3), _names([99_997, 99_994, 99_991]), 33_333),
    # i % 3 == 1 and i % 10 == 8: i = 28 (mod 30)
    (FlowRunFilter(flow_name=["flow-1"], state_type=["FAILED"], limit=2), _names([99_988, 99_958]), 3_333),
]


async def test_listing_and_counting_a_hundred_thousand_flow_runs(db: Database) -> None:
    started = time.perf_counter()
    await _fill(db)
    print(f"\n[{db.dialect_name}] {RUNS:,} flow runs inserted in {time.perf_counter() - started:.1f}s")
    for flow_run_filter, expected_names, expected_count in CASES:
        started = time.perf_counter()
        page = await flow_runs.read_flow_runs(db, flow_run_filter)
        listed = time.perf_counter() - started
        started = time.perf_counter()
        count = await flow_runs.count_flow_runs(db, flow_run_filter)
        counted = time.perf_counter() - started
        fields = flow_run_filter.model_dump(exclude_defaults=True)
        print(f"  {fields}: page of {len(page)} in {listed * 1000:.1f} ms, count in {counted * 1000:.1f} ms")
        assert [run.name for run in page] == expected_names, fields
        assert count == expected_count, fields
        assert all(run.flow_name for run in page)
    if db.dialect_name == "sqlite":
        await _assert_plans_walk_an_index(db)


async def _assert_plans_walk_an_index(db: Database) -> None:
    """No listing sorts the table or scans it without an index (PostgreSQL's plans depend on statistics,
    so only SQLite's are checked)."""
    for flow_run_filter, _, _ in CASES:
        query = (
            select_flow_runs()
            .where(*flow_run_conditions(flow_run_filter, "sqlite"))
            .order_by(*flow_run_order(flow_run_filter.sort))
            .limit(flow_run_filter.limit)
        )
        async with db.read() as conn:
            compiled = query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
            plan = [row[-1] for row in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]
        assert not any("TEMP B-TREE" in step for step in plan), (flow_run_filter, plan)
        assert not any(step.startswith("SCAN flow_runs") and "INDEX" not in step for step in plan), plan
