"""The worker loop against an in-memory orchestrator (real processes, no server): claiming, crash reports,
WAIT and REJECT answers, the worker's limit, cancellation and shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from fake_orchestrator import FakeOrchestrator, ScriptWorker

import headwater._wiring
from headwater.core.states import StateType, is_terminal
from headwater.schemas.responses import OrchestrationResult, SetStateStatus

T = TypeVar("T")

SLEEP = "import time; print('sleeping', flush=True); time.sleep(60)"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOrchestrator]:
    """The orchestrator `headwater._wiring.connect()` gives the worker during the test."""
    orchestrator = FakeOrchestrator()

    async def connect(settings: Any = None) -> FakeOrchestrator:
        return orchestrator

    monkeypatch.setattr(headwater._wiring, "connect", connect)
    yield orchestrator


def serve(worker: ScriptWorker, scenario: Callable[[], Awaitable[T]], timeout: float = 60) -> T:
    """Run the worker while `scenario()` runs, then stop it; the scenario's result."""

    async def main() -> T:
        serving = asyncio.create_task(worker.run())
        try:
            async with asyncio.timeout(timeout):
                result = await scenario()
                await worker.stop()
            await serving
            return result
        finally:
            serving.cancel()

    return asyncio.run(main())


async def until(condition: Callable[[], bool]) -> None:
    """Wait until `condition()` holds (the caller's timeout bounds the wait)."""
    while not condition():
        await asyncio.sleep(0.01)


def finished(fake: FakeOrchestrator, *run_ids: Any) -> Callable[[], bool]:
    return lambda: all(is_terminal(fake.runs[run_id].state_type) for run_id in run_ids)


def test_a_run_is_claimed_run_and_completed_and_a_missing_pool_created(
    fake: FakeOrchestrator, capsys: pytest.CaptureFixture[str]
) -> None:
    worker = ScriptWorker(fake, "pool", name="w")

    async def scenario() -> None:
        await until(lambda: "pool" in fake.pools)
        run = fake.add_run("pool", "print('hi')", name="brave-otter")
        await until(finished(fake, run.id))
        assert fake.states(run.id) == [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING, StateType.COMPLETED]

    serve(worker, scenario)

    assert fake.heartbeats[0] == "w" and fake.closed
    err = capsys.readouterr()
    assert "Work pool 'pool' did not exist: created it as a 'process' pool." in err.err
    assert "brave-otter | hi" in err.out


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("import os; os._exit(3)", "exited with code 3"),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "was killed by signal 9 (SIGKILL)"),
    ],
)
def test_a_process_that_dies_crashes_its_run_with_the_reason(fake: FakeOrchestrator, script: str, reason: str) -> None:
    worker = ScriptWorker(fake, "pool")

    async def scenario() -> None:
        await until(lambda: "pool" in fake.pools)
        run = fake.add_run("pool", script)
        await until(finished(fake, run.id))
        state = fake.runs[run.id].state
        assert state is not None and state.type is StateType.CRASHED
        assert state.message == f"The flow run's process {reason} while the run was Running."

    serve(worker, scenario)


def test_rejected_and_delayed_claims(fake: FakeOrchestrator) -> None:
    worker = ScriptWorker(fake, "pool")

    async def scenario() -> None:
        await until(lambda: "pool" in fake.pools)
        rejected = fake.add_run("pool", "pass")
        fake.claim_answers[rejected.id] = [OrchestrationResult(status=SetStateStatus.REJECT, reason="taken")]
        delayed = fake.add_run("pool", "pass")
        fake.claim_answers[delayed.id] = [
            OrchestrationResult(status=SetStateStatus.WAIT, reason="limit", delay_seconds=0.3)
        ]
        start = asyncio.get_running_loop().time()
        await until(finished(fake, rejected.id, delayed.id))
        # Offered again after the refusal; claimed after the delay, not before.
        assert asyncio.get_running_loop().time() - start >= 0.3
        assert fake.runs[rejected.id].state_type is StateType.COMPLETED
        assert fake.runs[delayed.id].state_type is StateType.COMPLETED

    serve(worker, scenario)


def test_no_more_runs_at_once_than_the_limit(fake: FakeOrchestrator) -> None:
    worker = ScriptWorker(fake, "pool", limit=2)
    most = 0

    async def scenario() -> None:
        nonlocal most
        await until(lambda: "pool" in fake.pools)
        runs = [fake.add_run("pool", "import time; time.sleep(0.3)") for _ in range(5)]
        while not finished(fake, *(run.id for run in runs))():
            running = sum(run.state_type in (StateType.PENDING, StateType.RUNNING) for run in fake.runs.values())
            most = max(most, running)
            await asyncio.sleep(0.01)

    serve(worker, scenario)
    assert most == 2


def test_a_cancelling_run_has_its_process_stopped_and_ends_cancelled(fake: FakeOrchestrator) -> None:
    worker = ScriptWorker(fake, "pool", cancellation_check_interval=0.05)

    async def scenario() -> None:
        await until(lambda: "pool" in fake.pools)
        run = fake.add_run("pool", SLEEP)
        await until(lambda: fake.runs[run.id].state_type is StateType.RUNNING)
        fake.force(run.id, StateType.CANCELLING)
        await until(finished(fake, run.id))
        state = fake.runs[run.id].state
        assert state is not None and state.type is StateType.CANCELLED
        assert state.message is not None and "was killed by signal 15 (SIGTERM)" in state.message

    serve(worker, scenario)


@pytest.mark.parametrize("force", [False, True])
def test_shutdown_stops_the_runs_left_and_crashes_them(fake: FakeOrchestrator, force: bool) -> None:
    worker = ScriptWorker(fake, "pool", name="w", shutdown_grace_seconds=30 if force else 0.2)

    async def main() -> Any:
        serving = asyncio.create_task(worker.run())
        await until(lambda: "pool" in fake.pools)
        run = fake.add_run("pool", SLEEP)
        await until(lambda: fake.runs[run.id].state_type is StateType.RUNNING)
        async with asyncio.timeout(20):  # a forced stop does not wait for the 30 s grace period
            await worker.stop(force=force)
        await serving
        return fake.runs[run.id].state

    state = asyncio.run(main())
    assert state is not None and state.type is StateType.CRASHED
    assert state.message == (
        "Worker 'w' shut down while the run was in progress; its process was killed by signal 15 (SIGTERM)."
    )


def test_a_stop_before_the_start_serves_nothing(fake: FakeOrchestrator) -> None:
    worker = ScriptWorker(fake, "pool")

    async def main() -> None:
        await worker.stop()
        await asyncio.wait_for(worker.run(), 10)

    asyncio.run(main())
    assert fake.polls == 0
