"""`timeout_seconds`: a run that takes too long is failed on time (a `TimedOut` state), whether it runs
on the main thread, in a submitted task, or in a flow called from another thread.

Each run below would sleep 20 s; finishing well before that is the behaviour under test."""

from __future__ import annotations

import threading
import time

import pytest
from sdk_support import Records

from headwater import flow, task
from headwater.core.states import StateType

SLEEP = 20.0
TIMEOUT = 0.5
WELL_BEFORE = 8.0  # a timed-out run must end long before its function would have (generous for busy CI)


def _sleep_in_steps(seconds: float) -> None:
    """Sleep in short steps, so an abandoned helper thread notices its timeout and ends soon."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.02)


def test_task_timeout_on_the_main_thread(records: Records) -> None:
    @task(timeout_seconds=TIMEOUT)
    def slow() -> None:
        time.sleep(SLEEP)

    @flow
    def pipeline() -> None:
        slow()

    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"exceeded its timeout of 0\.5 seconds"):
        pipeline()
    assert time.monotonic() - started < WELL_BEFORE
    run = records.only_flow_run(flow_name=["pipeline"])
    assert run.state_type is StateType.FAILED
    (tr,) = records.task_runs(run.id)
    assert (tr.state_type, tr.state_name) == (StateType.FAILED, "TimedOut")


def test_task_timeout_in_a_submitted_task(records: Records) -> None:
    @task(timeout_seconds=TIMEOUT)
    def slow() -> str:
        _sleep_in_steps(SLEEP)
        return "too late"

    @flow
    def pipeline() -> str:
        state = slow.submit().wait_for_state()
        return state.name

    started = time.monotonic()
    assert pipeline() == "TimedOut"
    assert time.monotonic() - started < WELL_BEFORE
    (tr,) = records.task_runs(records.only_flow_run(flow_name=["pipeline"]).id)
    assert tr.state_name == "TimedOut"


def test_flow_timeout_on_the_main_thread(records: Records) -> None:
    @flow(timeout_seconds=TIMEOUT)
    def slow_flow() -> None:
        time.sleep(SLEEP)

    started = time.monotonic()
    state = slow_flow(return_state=True)
    assert time.monotonic() - started < WELL_BEFORE
    assert (state.type, state.name) == (StateType.FAILED, "TimedOut")
    with pytest.raises(TimeoutError):
        state.result()
    run = records.only_flow_run(flow_name=["slow-flow"])
    assert (run.state_type, run.state_name) == (StateType.FAILED, "TimedOut")


def test_flow_timeout_when_called_from_another_thread(records: Records) -> None:
    @flow(timeout_seconds=TIMEOUT)
    def slow_flow() -> None:
        _sleep_in_steps(SLEEP)

    box: list[object] = []
    started = time.monotonic()
    t = threading.Thread(target=lambda: box.append(slow_flow(return_state=True)))
    t.start()
    t.join(WELL_BEFORE)
    assert not t.is_alive()
    assert time.monotonic() - started < WELL_BEFORE
    assert box[0].name == "TimedOut"  # type: ignore[attr-defined]
    assert records.only_flow_run(flow_name=["slow-flow"]).state_name == "TimedOut"


def test_flow_timeout_stops_a_running_task(records: Records) -> None:
    @task
    def slow() -> None:
        time.sleep(SLEEP)

    @flow(timeout_seconds=TIMEOUT)
    def slow_flow() -> None:
        slow()

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        slow_flow()
    assert time.monotonic() - started < WELL_BEFORE
    run = records.only_flow_run(flow_name=["slow-flow"])
    assert run.state_name == "TimedOut"
    (tr,) = records.task_runs(run.id)
    assert tr.state_type is not StateType.RUNNING  # the interrupted task run is not left running


def test_timed_out_task_is_retried(records: Records) -> None:
    attempts: list[int] = []

    @task(timeout_seconds=TIMEOUT, retries=1)
    def slow_then_fast() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            time.sleep(SLEEP)
        return "second attempt"

    @flow
    def pipeline() -> str:
        return slow_then_fast()

    started = time.monotonic()
    assert pipeline() == "second attempt"
    assert time.monotonic() - started < WELL_BEFORE
    (tr,) = records.task_runs(records.only_flow_run(flow_name=["pipeline"]).id)
    assert "TimedOut" in [s.name for s in records.task_run_states(tr.id)]


def test_fast_run_within_its_timeout_completes() -> None:
    @task(timeout_seconds=5)
    def quick() -> int:
        return 1

    @flow(timeout_seconds=5)
    def pipeline() -> int:
        return quick() + quick.submit().result()

    assert pipeline() == 2


def test_inner_task_timeout_inside_a_flow_timeout() -> None:
    @task(timeout_seconds=TIMEOUT)
    def slow() -> None:
        time.sleep(SLEEP)

    @flow(timeout_seconds=30)
    def pipeline() -> str:
        return slow(return_state=True).name

    started = time.monotonic()
    assert pipeline() == "TimedOut"
    assert time.monotonic() - started < WELL_BEFORE


def test_a_flow_timeout_that_fires_after_an_inner_task_finished_still_fires() -> None:
    @task(timeout_seconds=5)
    def quick() -> None:
        pass

    @flow(timeout_seconds=1.0)
    def pipeline() -> None:
        quick()  # the task's own deadline must not cancel the flow's
        time.sleep(SLEEP)

    started = time.monotonic()
    state = pipeline(return_state=True)
    assert state.name == "TimedOut"
    assert time.monotonic() - started < WELL_BEFORE


def test_task_timeout_in_a_flow_running_on_a_worker_thread(records: Records) -> None:
    @task(timeout_seconds=TIMEOUT)
    def slow() -> None:
        _sleep_in_steps(SLEEP)

    @flow
    def pipeline() -> str:
        return slow(return_state=True).name

    box: list[str] = []
    started = time.monotonic()
    t = threading.Thread(target=lambda: box.append(pipeline()))
    t.start()
    t.join(WELL_BEFORE)
    assert box == ["TimedOut"]
    assert time.monotonic() - started < WELL_BEFORE
