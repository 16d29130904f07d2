"""Retries of tasks and flows: how many, how long between them, jitter, and `retry_condition_fn`."""

from __future__ import annotations

import pytest
from sdk_support import Records, is_subsequence, state_names

from headwater import flow, task
from headwater.core.states import StateType
from headwater.engine.retries import exponential_backoff
from headwater.runtime import flow_run, task_run
from headwater.schemas.states import StateSchema


def _flaky(failures: int):  # a function failing its first `failures` calls
    calls: list[int] = []

    def fn() -> int:
        calls.append(task_run.run_count or flow_run.run_count)
        if len(calls) <= failures:
            raise ConnectionError(f"attempt {len(calls)} failed")
        return len(calls)

    return fn, calls


def _delays(states: list[StateSchema]) -> list[float]:
    """Seconds each AwaitingRetry state scheduled its retry after it was entered."""
    return [
        (s.details.scheduled_time - s.timestamp).total_seconds()
        for s in sorted(states, key=lambda s: s.timestamp)
        if s.name == "AwaitingRetry" and s.details.scheduled_time is not None
    ]


def _task_states(records: Records, flow_name: str) -> tuple[list[StateSchema], int]:
    run = records.only_flow_run(flow_name=[flow_name])
    (tr,) = records.task_runs(run.id)
    return records.task_run_states(tr.id), tr.run_count


def test_task_retries_until_it_succeeds(records: Records) -> None:
    fn, calls = _flaky(2)
    flaky = task(retries=2)(fn)

    @flow
    def pipeline() -> int:
        return flaky()

    assert pipeline() == 3
    assert calls == [1, 2, 3]  # task_run.run_count counts the attempts
    states, run_count = _task_states(records, "pipeline")
    assert run_count == 3
    names = state_names(states)
    assert is_subsequence(["Running", "AwaitingRetry", "Retrying", "AwaitingRetry", "Retrying", "Completed"], names)
    assert names[-1] == "Completed"


def test_task_fails_once_retries_are_exhausted(records: Records) -> None:
    fn, calls = _flaky(5)
    flaky = task(retries=1)(fn)

    @flow
    def pipeline() -> None:
        flaky()

    with pytest.raises(ConnectionError, match="attempt 2 failed"):
        pipeline()
    assert len(calls) == 2
    states, run_count = _task_states(records, "pipeline")
    assert run_count == 2
    assert states[-1].type is StateType.FAILED
    assert state_names(states).count("AwaitingRetry") == 1


def test_retry_delay_seconds_as_a_number_waits_between_attempts(records: Records) -> None:
    fn, _ = _flaky(1)
    flaky = task(retries=1, retry_delay_seconds=0.2)(fn)

    @flow
    def pipeline() -> int:
        return flaky()

    pipeline()
    states, _ = _task_states(records, "pipeline")
    assert _delays(states) == [pytest.approx(0.2, abs=0.01)]
    ordered = sorted(states, key=lambda s: s.timestamp)
    awaiting = next(s for s in ordered if s.name == "AwaitingRetry")
    retrying = next(s for s in ordered if s.name == "Retrying")
    assert awaiting.details.scheduled_time is not None
    assert retrying.timestamp >= awaiting.details.scheduled_time  # it really waited


def test_retry_delay_seconds_as_a_list_uses_one_delay_per_retry(records: Records) -> None:
    fn, _ = _flaky(3)
    flaky = task(retries=3, retry_delay_seconds=[0.05, 0.1, 0.15])(fn)

    @flow
    def pipeline() -> int:
        return flaky()

    assert pipeline() == 4
    states, _ = _task_states(records, "pipeline")
    assert _delays(states) == [pytest.approx(d, abs=0.01) for d in (0.05, 0.1, 0.15)]


def test_a_short_delay_list_repeats_its_last_delay(records: Records) -> None:
    fn, _ = _flaky(3)
    flaky = task(retries=3, retry_delay_seconds=[0.02, 0.05])(fn)

    @flow
    def pipeline() -> int:
        return flaky()

    pipeline()
    states, _ = _task_states(records, "pipeline")
    assert _delays(states) == [pytest.approx(d, abs=0.01) for d in (0.02, 0.05, 0.05)]


def test_exponential_backoff_doubles_the_delay(records: Records) -> None:
    fn, _ = _flaky(3)
    flaky = task(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=0.03))(fn)

    @flow
    def pipeline() -> int:
        return flaky()

    pipeline()
    states, _ = _task_states(records, "pipeline")
    assert _delays(states) == [pytest.approx(d, abs=0.01) for d in (0.03, 0.06, 0.12)]


def test_exponential_backoff_is_importable_where_prefect_has_it() -> None:
    from headwater.tasks import exponential_backoff as from_tasks

    assert from_tasks(backoff_factor=10)(3) == [10, 20, 40]


def test_retry_jitter_factor_spreads_delays_up_to_the_factor(records: Records) -> None:
    fn, _ = _flaky(4)
    flaky = task(retries=4, retry_delay_seconds=0.05, retry_jitter_factor=1.0)(fn)

    @flow
    def pipeline() -> int:
        return flaky()

    pipeline()
    states, _ = _task_states(records, "pipeline")
    delays = _delays(states)
    assert len(delays) == 4
    assert all(0.0 < d <= 0.05 * 2 + 0.01 for d in delays)
    assert len({round(d, 6) for d in delays}) > 1  # jittered, not all the same


def test_retry_condition_fn_decides_whether_to_retry(records: Records) -> None:
    seen: list[tuple[str, str]] = []

    def only_connection_errors(tsk: object, run: object, state: object) -> bool:
        seen.append((type(tsk).__name__, type(state).__name__))
        try:
            state.result()  # type: ignore[attr-defined]
        except ConnectionError:
            return True
        except Exception:
            return False
        return False

    attempts: list[int] = []

    @task(retries=5, retry_condition_fn=only_connection_errors)
    def call_service(error: type[Exception]) -> None:
        attempts.append(1)
        raise error("nope")

    @flow
    def pipeline(error_name: str) -> None:
        call_service(ConnectionError if error_name == "connection" else PermissionError)

    with pytest.raises(PermissionError):
        pipeline("permission")
    assert len(attempts) == 1  # the condition refused: no retry
    assert seen == [("Task", "State")]

    attempts.clear()
    with pytest.raises(ConnectionError):
        pipeline("connection")
    assert len(attempts) == 6  # retried until retries ran out


def test_flow_retries_run_the_whole_flow_again(records: Records) -> None:
    fn, calls = _flaky(1)

    @flow(retries=2, retry_delay_seconds=0.05)
    def flaky_flow() -> int:
        return fn()

    assert flaky_flow() == 2
    assert calls == [1, 2]  # flow_run.run_count counts the attempts
    run = records.only_flow_run(flow_name=["flaky-flow"])
    assert run.run_count == 2
    assert run.state_type is StateType.COMPLETED
    names = state_names(records.flow_run_states(run.id))
    assert is_subsequence(["Running", "AwaitingRetry", "Retrying", "Completed"], names)
    assert _delays(records.flow_run_states(run.id)) == [pytest.approx(0.05, abs=0.01)]


def test_flow_fails_after_its_retries(records: Records) -> None:
    fn, _ = _flaky(10)

    @flow(retries=1)
    def flaky_flow() -> int:
        return fn()

    with pytest.raises(ConnectionError, match="attempt 2 failed"):
        flaky_flow()
    run = records.only_flow_run(flow_name=["flaky-flow"])
    assert (run.run_count, run.state_type) == (2, StateType.FAILED)


def test_flow_retry_condition_fn(records: Records) -> None:
    @flow(retries=3, retry_condition_fn=lambda flw, run, state: False)
    def never_retried() -> None:
        raise ConnectionError("once")

    with pytest.raises(ConnectionError):
        never_retried()
    assert records.only_flow_run(flow_name=["never-retried"]).run_count == 1


def test_task_retry_reruns_only_the_failed_task_not_the_flow(records: Records) -> None:
    fn, _ = _flaky(1)
    flaky = task(retries=1)(fn)
    upstream_calls: list[int] = []

    @task
    def upstream() -> int:
        upstream_calls.append(1)
        return 1

    @flow
    def pipeline() -> int:
        return upstream() + flaky()

    assert pipeline() == 3
    assert upstream_calls == [1]
    assert records.only_flow_run(flow_name=["pipeline"]).run_count == 1


def test_submitted_task_retries(records: Records) -> None:
    fn, calls = _flaky(2)
    flaky = task(retries=2)(fn)

    @flow
    def pipeline() -> int:
        return flaky.submit().result()

    assert pipeline() == 3
    assert calls == [1, 2, 3]


def test_returning_a_failed_state_from_a_task_is_retried(records: Records) -> None:
    from headwater.states import Completed, Failed

    attempts: list[int] = []

    @task(retries=1)
    def soft_fail() -> object:
        attempts.append(1)
        return Failed(message="not yet") if len(attempts) == 1 else Completed(data="ok")

    @flow
    def pipeline() -> object:
        return soft_fail()

    assert pipeline() == "ok"
    assert attempts == [1, 1]
