"""Claiming runs (proposing PENDING) under the rules for deployment runs: one claim wins, paused work
waits, and deployment, pool and queue concurrency limits hold."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from deployment_support import claim, deploy, propose, run_of, start

from headwater.core.states import StateType
from headwater.schemas.deployments import CollisionStrategy, DeploymentUpdate
from headwater.schemas.responses import SetStateStatus
from headwater.schemas.work_pools import WorkPoolUpdate, WorkQueueUpdate
from headwater.server.services import deployments, flow_runs, work_pools
from headwater.server.services.orchestration import FLOW_RUN_POLICY
from headwater.server.storage.database import Database

S = SetStateStatus


async def test_of_two_claims_of_one_run_one_is_accepted_and_one_rejected(db: Database) -> None:
    run = await run_of(db, await deploy(db))
    results = await asyncio.gather(claim(db, run.id), claim(db, run.id))
    assert sorted(r.status.value for r in results) == ["ACCEPT", "REJECT"]
    rejected = next(r for r in results if r.status is S.REJECT)
    assert rejected.reason is not None and "cannot go from Pending (PENDING) to PENDING" in rejected.reason


async def test_many_workers_claiming_many_runs_claim_each_once(db: Database) -> None:
    deployment = await deploy(db)
    runs = [await run_of(db, deployment) for _ in range(5)]
    results = await asyncio.gather(*(claim(db, run.id) for run in runs for _ in range(3)))
    assert sum(r.status is S.ACCEPT for r in results) == 5


async def test_claims_of_paused_work_wait(db: Database) -> None:
    deployment = await deploy(db)
    run = await run_of(db, deployment)

    async def pause_deployment(paused: bool) -> None:
        await deployments.update_deployment(db, deployment.id, DeploymentUpdate(paused=paused))

    async def pause_pool(paused: bool) -> None:
        await work_pools.update_work_pool(db, "local", WorkPoolUpdate(paused=paused))

    async def pause_queue(paused: bool) -> None:
        await work_pools.update_work_queue(db, "local", "default", WorkQueueUpdate(paused=paused))

    pauses: list[tuple[Callable[[bool], Awaitable[None]], str]] = [
        (pause_deployment, "deployment 'nightly' is paused"),
        (pause_pool, "work pool 'local' is paused"),
        (pause_queue, "work queue 'default' of work pool 'local' is paused"),
    ]
    for pause, what in pauses:
        await pause(True)
        result = await claim(db, run.id)
        assert result.status is S.WAIT and result.delay_seconds and result.reason and what in result.reason
        assert result.state is not None and result.state.type is StateType.SCHEDULED
        await pause(False)
    assert (await claim(db, run.id)).status is S.ACCEPT


async def test_deployment_limit_with_enqueue_makes_the_next_run_wait(db: Database) -> None:
    deployment = await deploy(db, concurrency_limit=1)
    first, second = await run_of(db, deployment), await run_of(db, deployment)
    await start(db, first.id)
    result = await claim(db, second.id)
    assert result.status is S.WAIT and result.delay_seconds is not None and result.delay_seconds > 0
    assert result.reason == (
        "deployment 'nightly' is at its concurrency limit (1 of 1 running); the run waits for a free slot "
        "(collision strategy ENQUEUE)"
    )
    assert (await flow_runs.read_flow_run(db, second.id)).state_type is StateType.SCHEDULED
    # Proposing RUNNING directly is held too; a finished run frees the slot.
    assert (await propose(db, second.id, StateType.RUNNING)).status is S.WAIT
    await propose(db, first.id, StateType.COMPLETED)
    assert (await claim(db, second.id)).status is S.ACCEPT


async def test_a_run_that_holds_a_slot_goes_on(db: Database) -> None:
    deployment = await deploy(db, concurrency_limit=1)
    run = await run_of(db, deployment)
    await start(db, run.id)  # PENDING holds the slot; PENDING → RUNNING is not checked again
    assert (await propose(db, run.id, StateType.COMPLETED)).status is S.ACCEPT


async def test_deployment_limit_with_cancel_new_cancels_the_new_run(db: Database) -> None:
    deployment = await deploy(db, concurrency_limit=1, collision_strategy=CollisionStrategy.CANCEL_NEW)
    first, second = await run_of(db, deployment), await run_of(db, deployment)
    await start(db, first.id)
    result = await claim(db, second.id)
    assert result.status is S.ABORT and result.reason is not None
    assert "concurrency limit (1 of 1 running)" in result.reason and "CANCEL_NEW" in result.reason
    assert result.state is not None and result.state.type is StateType.CANCELLED
    after = await flow_runs.read_flow_run(db, second.id)
    assert after.state_type is StateType.CANCELLED and after.end_time is not None
    assert after.state is not None and after.state.message is not None and "CANCEL_NEW" in after.state.message


async def test_concurrent_claims_never_exceed_a_deployment_limit(db: Database) -> None:
    deployment = await deploy(db, concurrency_limit=2)
    runs = [await run_of(db, deployment) for _ in range(6)]
    results = await asyncio.gather(*(claim(db, run.id) for run in runs))
    assert sorted(r.status.value for r in results) == ["ACCEPT"] * 2 + ["WAIT"] * 4


async def test_concurrent_claims_never_exceed_pool_and_queue_limits(db: Database) -> None:
    deployment = await deploy(db)
    runs = [await run_of(db, deployment) for _ in range(5)]
    await work_pools.update_work_queue(db, "local", "default", WorkQueueUpdate(concurrency_limit=3))
    await work_pools.update_work_pool(db, "local", WorkPoolUpdate(concurrency_limit=2))
    results = await asyncio.gather(*(claim(db, run.id) for run in runs))
    assert sorted(r.status.value for r in results) == ["ACCEPT"] * 2 + ["WAIT"] * 3
    waiting = next(r for r in results if r.status is S.WAIT)
    assert waiting.reason == "work pool 'local' is at its concurrency limit (2 of 2 running)"
    await work_pools.update_work_pool(db, "local", WorkPoolUpdate(concurrency_limit=None))
    results = await asyncio.gather(*(claim(db, run.id) for run in runs))
    assert sorted(r.status.value for r in results) == ["ACCEPT", "REJECT", "REJECT", "WAIT", "WAIT"]


def test_every_deployment_rule_documents_what_it_guards() -> None:
    names = [rule.__name__ for rule in FLOW_RUN_POLICY]
    assert names[-3:] == ["WaitWhileWorkIsPaused", "LimitDeploymentConcurrency", "LimitWorkPoolConcurrency"]
    for rule in FLOW_RUN_POLICY:
        assert rule.__doc__ and rule.FROM_STATES and rule.TO_STATES
