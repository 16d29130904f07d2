"""Proposing flow-run states: the rules' answers, and what an accepted state does to the run."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import pytest

from headwater.core.states import StateType
from headwater.exceptions import ObjectNotFound
from headwater.schemas.objects import FlowRun
from headwater.schemas.responses import SetStateStatus
from headwater.schemas.states import StateDetails
from headwater.server.services import flow_runs
from headwater.server.services.orchestration import FLOW_RUN_POLICY, set_flow_run_state
from headwater.server.services.orchestration.rules import Decision, OrchestrationRule, TransitionContext, wait
from headwater.server.services.orchestration.transitions import set_run_state
from headwater.server.storage.database import Database

if TYPE_CHECKING:
    from conftest import Factory

S = StateType


async def _run_in(db: Database, make: Factory, *types: StateType) -> FlowRun:
    """A flow run taken through `types`, one second apart, by forcing each state."""
    run = await flow_runs.create_flow_run(db, make.flow_run())
    for i, state_type in enumerate(types):
        result = await set_flow_run_state(db, run.id, make.state(state_type, i), force=True)
        assert result.status is SetStateStatus.ACCEPT
    return await flow_runs.read_flow_run(db, run.id)


async def test_accepted_states_update_the_run_and_its_history(db: Database, make: Factory) -> None:
    run = await _run_in(db, make, S.SCHEDULED)
    pending, running, completed = (
        make.state(S.PENDING, 10),
        make.state(S.RUNNING, 11),
        make.state(S.COMPLETED, 20),
    )
    for state in (pending, running, completed):
        result = await set_flow_run_state(db, run.id, state)
        assert result.status is SetStateStatus.ACCEPT and result.reason is None
        assert result.state is not None and result.state.id == state.id
    after = await flow_runs.read_flow_run(db, run.id)
    assert after.state is not None and after.state.id == completed.id and after.state.name == "Completed"
    assert (after.state_type, after.state_name) == (S.COMPLETED, "Completed")
    assert (after.start_time, after.end_time, after.run_count) == (make.at(11), make.at(20), 1)
    history = await flow_runs.read_flow_run_states(db, run.id)
    assert [s.type for s in history] == [S.SCHEDULED, S.PENDING, S.RUNNING, S.COMPLETED]


async def test_invalid_transition_is_rejected_naming_both_states(db: Database, make: Factory) -> None:
    run = await _run_in(db, make, S.PENDING)
    result = await set_flow_run_state(db, run.id, make.state(S.PENDING, 5))
    assert result.status is SetStateStatus.REJECT
    assert result.reason is not None and "from Pending (PENDING) to PENDING" in result.reason
    assert result.state is not None and result.state.type is S.PENDING
    assert len(await flow_runs.read_flow_run_states(db, run.id)) == 1


@pytest.mark.parametrize("proposed", [S.COMPLETED, S.FAILED, S.CANCELLING, S.PAUSED])
async def test_a_finished_run_only_leaves_its_terminal_state_for_a_retry(
    db: Database, make: Factory, proposed: StateType
) -> None:
    run = await _run_in(db, make, S.RUNNING, S.COMPLETED)
    result = await set_flow_run_state(db, run.id, make.state(proposed, 10))
    assert result.status is SetStateStatus.REJECT
    assert result.reason is not None and "already finished in state Completed (COMPLETED)" in result.reason
    assert f"not moved to {proposed.value}" in result.reason
    assert (await flow_runs.read_flow_run(db, run.id)).state_type is S.COMPLETED


async def test_a_retry_runs_again_and_finishes_again(db: Database, make: Factory) -> None:
    run = await _run_in(db, make, S.RUNNING, S.FAILED)
    retry = make.state(S.SCHEDULED, 10, name="AwaitingRetry", details=StateDetails(scheduled_time=make.at(30)))
    assert (await set_flow_run_state(db, run.id, retry)).status is SetStateStatus.ACCEPT
    waiting = await flow_runs.read_flow_run(db, run.id)
    assert waiting.end_time is None and waiting.expected_start_time == make.at(30)
    assert waiting.state_name == "AwaitingRetry"
    assert (await set_flow_run_state(db, run.id, make.state(S.RUNNING, 30))).status is SetStateStatus.ACCEPT
    assert (await set_flow_run_state(db, run.id, make.state(S.COMPLETED, 40))).status is SetStateStatus.ACCEPT
    after = await flow_runs.read_flow_run(db, run.id)
    assert (after.run_count, after.start_time, after.end_time) == (2, make.at(0), make.at(40))


@pytest.mark.parametrize("current", [S.CANCELLING, S.CANCELLED])
@pytest.mark.parametrize("proposed", [S.RUNNING, S.PENDING])
async def test_a_cancelled_run_is_told_to_abort(
    db: Database, make: Factory, current: StateType, proposed: StateType
) -> None:
    run = await _run_in(db, make, S.RUNNING, current)
    result = await set_flow_run_state(db, run.id, make.state(proposed, 10))
    assert result.status is SetStateStatus.ABORT
    assert result.reason is not None and "cancelled" in result.reason and proposed.value in result.reason
    assert (await flow_runs.read_flow_run(db, run.id)).state_type is current


async def test_force_skips_the_rules(db: Database, make: Factory) -> None:
    run = await _run_in(db, make, S.RUNNING, S.COMPLETED)
    result = await set_flow_run_state(db, run.id, make.state(S.FAILED, 10), force=True)
    assert result.status is SetStateStatus.ACCEPT
    after = await flow_runs.read_flow_run(db, run.id)
    assert after.state_type is S.FAILED and after.end_time == make.at(10)


async def test_unknown_run_is_not_found(db: Database, make: Factory) -> None:
    run_id = uuid.uuid4()
    with pytest.raises(ObjectNotFound, match=f"no flow run with id {run_id}"):
        await set_flow_run_state(db, run_id, make.state(S.RUNNING))


async def test_proposing_the_current_state_again_is_accepted_without_change(db: Database, make: Factory) -> None:
    run = await _run_in(db, make, S.PENDING)
    running = make.state(S.RUNNING, 5)
    assert (await set_flow_run_state(db, run.id, running)).status is SetStateStatus.ACCEPT
    again = await set_flow_run_state(db, run.id, running)
    assert again.status is SetStateStatus.ACCEPT and again.state is not None and again.state.id == running.id
    assert (await flow_runs.read_flow_run(db, run.id)).run_count == 1
    assert len(await flow_runs.read_flow_run_states(db, run.id)) == 2


async def test_proposing_an_older_recorded_state_again_is_rejected(db: Database, make: Factory) -> None:
    run = await _run_in(db, make, S.PENDING)
    running = make.state(S.RUNNING, 5)
    await set_flow_run_state(db, run.id, running)
    await set_flow_run_state(db, run.id, make.state(S.COMPLETED, 6))
    result = await set_flow_run_state(db, run.id, running)
    assert result.status is SetStateStatus.REJECT and result.reason is not None
    assert "already recorded" in result.reason


async def test_an_accepted_state_is_never_filed_before_the_current_one(db: Database, make: Factory) -> None:
    run = await _run_in(db, make, S.PENDING)  # at T0
    await set_flow_run_state(db, run.id, make.state(S.RUNNING, 10))
    result = await set_flow_run_state(db, run.id, make.state(S.COMPLETED, 5))  # a lagging clock
    assert result.state is not None and result.state.timestamp == make.at(10)
    history = await flow_runs.read_flow_run_states(db, run.id)
    assert [s.type for s in history] == [S.PENDING, S.RUNNING, S.COMPLETED]


def test_every_rule_documents_what_it_guards() -> None:
    for rule in FLOW_RUN_POLICY:
        assert rule.__doc__ and rule.FROM_STATES and rule.TO_STATES, rule


class _Pause(OrchestrationRule):
    """Test rule: holds every transition a moment, so concurrent proposals overlap inside the rules."""

    async def decide(self, context: TransitionContext) -> Decision | None:
        await asyncio.sleep(0.2)
        return None


async def test_concurrent_proposals_are_decided_one_after_the_other(db: Database, make: Factory) -> None:
    # Two processes report the end of one run at once: only one end may be recorded. On PostgreSQL the
    # run's row is read FOR UPDATE; on SQLite the write transactions are serialised by BEGIN IMMEDIATE.
    run = await _run_in(db, make, S.PENDING, S.RUNNING)
    policy = (_Pause, *FLOW_RUN_POLICY)
    results = await asyncio.gather(
        set_run_state(db, "flow_run", run.id, make.state(S.COMPLETED, 10), policy=policy),
        set_run_state(db, "flow_run", run.id, make.state(S.FAILED, 10), policy=policy),
    )
    assert sorted(r.status.value for r in results) == ["ACCEPT", "REJECT"]
    history = await flow_runs.read_flow_run_states(db, run.id)
    assert [s.type for s in history][:2] == [S.PENDING, S.RUNNING] and len(history) == 3


class _NoFreeSlot(OrchestrationRule):
    """Test rule standing for a concurrency limit: RUNNING must wait."""

    FROM_STATES = frozenset({S.PENDING})
    TO_STATES = frozenset({S.RUNNING})

    async def decide(self, context: TransitionContext) -> Decision | None:
        return wait("no free slot for tag 'db'", delay_seconds=2.5)


async def test_a_rule_added_to_a_policy_can_make_a_run_wait(db: Database, make: Factory) -> None:
    run = await _run_in(db, make, S.PENDING)
    policy = (*FLOW_RUN_POLICY[:1], _NoFreeSlot, *FLOW_RUN_POLICY[1:])
    result = await set_run_state(db, "flow_run", run.id, make.state(S.RUNNING, 5), policy=policy)
    assert (result.status, result.delay_seconds, result.reason) == (
        SetStateStatus.WAIT,
        2.5,
        "no free slot for tag 'db'",
    )
    assert result.state is not None and result.state.type is S.PENDING
    assert (await flow_runs.read_flow_run(db, run.id)).run_count == 0
