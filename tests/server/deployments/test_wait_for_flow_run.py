"""Waiting for a flow run to finish: back as soon as it is final, or as it is when the time is up."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest
from deployment_support import deploy, propose, run_of, start

from headwater.core.states import StateType
from headwater.exceptions import ObjectNotFound
from headwater.schemas.actions import RecordBatch
from headwater.server.services import records
from headwater.server.services.flow_run_waits import wait_for_flow_run
from headwater.server.storage.database import Database

if TYPE_CHECKING:
    from conftest import Factory


async def test_returns_as_soon_as_the_run_is_final(db: Database) -> None:
    run = await run_of(db, await deploy(db))
    await start(db, run.id)
    waiting = asyncio.create_task(wait_for_flow_run(db, run.id, 30))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    started = time.monotonic()
    await propose(db, run.id, StateType.COMPLETED)
    finished = await asyncio.wait_for(waiting, timeout=5)
    assert finished.state_type is StateType.COMPLETED
    assert time.monotonic() - started < 5


async def test_a_final_state_recorded_by_the_sdk_is_seen_too(db: Database, make: Factory) -> None:
    create = make.flow_run(state=make.state(StateType.RUNNING))
    await records.record_batch(db, RecordBatch(flow_runs=[create]))
    waiting = asyncio.create_task(wait_for_flow_run(db, create.id, 30))
    await asyncio.sleep(0.2)
    await records.record_batch(
        db, RecordBatch(flow_run_states=[make.record(create.id, make.state(StateType.FAILED, 5))])
    )
    assert (await asyncio.wait_for(waiting, timeout=5)).state_type is StateType.FAILED


async def test_returns_the_run_as_it_is_when_the_time_is_up(db: Database) -> None:
    run = await run_of(db, await deploy(db))
    started = time.monotonic()
    same = await wait_for_flow_run(db, run.id, 0.3)
    assert same.state_type is StateType.SCHEDULED and 0.25 < time.monotonic() - started < 3
    assert (await wait_for_flow_run(db, run.id, 0)).id == run.id
    with pytest.raises(ObjectNotFound):
        await wait_for_flow_run(db, run.flow_id, 1)
