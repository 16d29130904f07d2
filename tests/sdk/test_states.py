"""States: types and names, `return_state=True`, `state.result()`, and how a flow's final state is
decided from what it returned (Prefect's rules)."""

from __future__ import annotations

import pytest
from sdk_support import Records, state_names

from headwater import flow, task
from headwater.core.states import StateType
from headwater.exceptions import FailedRun, UnfinishedRun
from headwater.states import (
    AwaitingRetry,
    Cached,
    Cancelled,
    Completed,
    Crashed,
    Failed,
    Pending,
    Retrying,
    Running,
    Scheduled,
    State,
    TimedOut,
    get_state_exception,
    raise_state_exception,
)


@task
def ok(x: int = 1) -> int:
    return x


@task
def boom(message: str = "boom") -> None:
    raise ValueError(message)


def test_named_states_have_their_types() -> None:
    assert (Cached().type, Cached().name) == (StateType.COMPLETED, "Cached")
    assert (Retrying().type, Retrying().name) == (StateType.RUNNING, "Retrying")
    assert (AwaitingRetry().type, AwaitingRetry().name) == (StateType.SCHEDULED, "AwaitingRetry")
    assert (TimedOut().type, TimedOut().name) == (StateType.FAILED, "TimedOut")
    assert Completed().name == "Completed" and Failed().name == "Failed"
    assert Scheduled().is_scheduled() and Pending().is_pending() and Running().is_running()
    assert Crashed().is_crashed() and Cancelled().is_cancelled()
    assert Completed().is_final() and Failed().is_final() and not Running().is_final()


def test_state_result_returns_the_value_or_raises_the_exception() -> None:
    assert Completed(data=5).result() == 5
    error = ValueError("bad")
    with pytest.raises(ValueError, match="bad") as caught:
        Failed(data=error).result()
    assert caught.value is error
    assert Failed(data=error).result(raise_on_failure=False) is error
    with pytest.raises(FailedRun, match="no data"):
        Failed(message="no data").result()
    with pytest.raises(UnfinishedRun):
        Running().result()
    assert isinstance(get_state_exception(Failed(message="x")), FailedRun)
    raise_state_exception(Completed(data=1))  # no error for a completed state
    with pytest.raises(ValueError):
        raise_state_exception(Failed(data=ValueError()))


def test_task_return_state_gives_the_final_state_instead_of_raising() -> None:
    box: dict[str, State[object]] = {}

    @flow
    def pipeline() -> None:
        box["good"] = ok(7, return_state=True)
        box["bad"] = boom("bad input", return_state=True)

    pipeline()
    good, bad = box["good"], box["bad"]
    assert good.is_completed() and good.result() == 7
    assert bad.is_failed() and bad.name == "Failed"
    with pytest.raises(ValueError, match="bad input"):
        bad.result()


def test_flow_return_state(records: Records) -> None:
    @flow
    def good() -> int:
        return 3

    @flow
    def bad() -> None:
        raise RuntimeError("broken flow")

    state = good(return_state=True)
    assert state.is_completed() and state.result() == 3
    failed = bad(return_state=True)  # does not raise
    assert failed.is_failed()
    assert "broken flow" in (failed.message or "")
    with pytest.raises(RuntimeError, match="broken flow"):
        failed.result()


def test_returning_a_failed_state_fails_the_flow_without_raising_inside(records: Records) -> None:
    @flow
    def gives_up() -> State[None]:
        return Failed(message="no data today")

    state = gives_up(return_state=True)
    assert state.is_failed()
    assert state.message == "no data today"
    with pytest.raises(FailedRun, match="no data today"):
        gives_up()
    run = records.flow_runs(flow_name=["gives-up"])[0]
    assert run.state_type is StateType.FAILED


def test_returning_a_completed_state_completes_with_its_value() -> None:
    @flow
    def explicit() -> State[int]:
        return Completed(message="all good", data=9)

    state = explicit(return_state=True)
    assert state.is_completed() and state.result() == 9 and state.message == "all good"


def test_returning_a_failed_tasks_state_or_future_fails_the_flow(records: Records) -> None:
    @flow
    def returns_state() -> State[None]:
        return boom("upstream", return_state=True)

    @flow
    def returns_future() -> object:
        return boom.submit("in a future")

    with pytest.raises(ValueError, match="upstream"):
        returns_state()
    state = returns_future(return_state=True)
    assert state.is_failed()
    with pytest.raises(ValueError, match="in a future"):
        state.result()


def test_returning_a_list_with_a_failed_state_fails_the_flow() -> None:
    @flow
    def mixed() -> list[object]:
        return [ok(1, return_state=True), boom("one bad", return_state=True), ok.submit(3)]

    state = mixed(return_state=True)
    assert state.is_failed()
    assert state.message == "1/3 states failed."
    with pytest.raises(ValueError, match="one bad"):
        state.result()


def test_returning_a_list_of_completed_states_completes_with_their_values() -> None:
    @flow
    def all_good() -> list[object]:
        return [ok(1, return_state=True), ok.submit(2)]

    assert all_good() == [1, 2]


def test_a_failed_task_that_is_not_returned_does_not_fail_the_flow(records: Records) -> None:
    @flow
    def tolerant() -> str:
        boom.submit("ignored")
        boom("also ignored", return_state=True)
        return "done"

    assert tolerant() == "done"
    run = records.only_flow_run(flow_name=["tolerant"])
    assert run.state_type is StateType.COMPLETED
    assert sorted(t.state_type.value for t in records.task_runs(run.id)) == ["FAILED", "FAILED"]


def test_downstream_of_a_failed_task_is_not_ready_and_does_not_run(records: Records) -> None:
    ran = []

    @task
    def downstream(x: object) -> None:
        ran.append(x)

    @flow
    def pipeline() -> object:
        upstream = boom.submit("upstream broke")
        return downstream.submit(upstream)

    state = pipeline(return_state=True)
    assert ran == []
    assert state.is_failed()
    with pytest.raises(ValueError, match="upstream broke"):
        state.result()  # the downstream's failure carries the upstream's exception
    run = records.only_flow_run(flow_name=["pipeline"])
    by_name = {t.name: t for t in records.task_runs(run.id)}
    assert by_name["downstream-0"].state_name == "NotReady"
    assert by_name["downstream-0"].state_type is StateType.FAILED
    assert by_name["boom-0"].state_name == "Failed"


def test_wait_for_a_failed_task_makes_the_dependent_not_ready() -> None:
    @task
    def after() -> str:
        return "ran"

    @flow
    def pipeline() -> tuple[str, bool]:
        first = boom.submit()
        state = after.submit(wait_for=[first]).wait_for_state()
        return state.name, state.is_completed()

    assert pipeline() == ("NotReady", False)


def test_task_state_history_is_recorded(records: Records) -> None:
    @flow
    def pipeline() -> None:
        ok(1)
        boom(return_state=True)

    pipeline()
    run = records.only_flow_run(flow_name=["pipeline"])
    by_name = {t.name: t for t in records.task_runs(run.id)}
    assert state_names(records.task_run_states(by_name["ok-0"].id))[-2:] == ["Running", "Completed"]
    bad_states = records.task_run_states(by_name["boom-0"].id)
    assert state_names(bad_states)[-2:] == ["Running", "Failed"]
    assert "boom" in (bad_states[-1].message or "")


def test_crashed_and_cancelled_states_raise_on_result() -> None:
    from headwater.exceptions import CancelledRun, CrashedRun

    with pytest.raises(CrashedRun, match="killed"):
        Crashed(message="killed").result()
    with pytest.raises(CancelledRun):
        Cancelled().result()


def test_map_over_a_failed_future_raises_naming_the_upstream_failure() -> None:
    @task
    def use(x: int, upstream: object) -> int:
        return x

    @flow
    def pipeline() -> None:
        failed = boom.submit("shared upstream")
        use.map([1, 2], upstream=failed)  # map resolves its arguments to know what to map over

    state = pipeline(return_state=True)
    assert state.is_failed()
    assert "shared upstream" in (state.message or "")


def test_mapped_runs_downstream_of_failed_items_are_not_ready() -> None:
    @task
    def use(x: int) -> int:
        return x

    @flow
    def pipeline() -> list[str]:
        upstream = [boom.submit("item failed"), ok.submit(2)]
        futures = use.map(upstream)
        futures.wait()
        return [f.state.name for f in futures]

    assert pipeline() == ["NotReady", "Completed"]


def test_direct_call_waiting_for_a_failed_run_raises_its_exception() -> None:
    ran: list[int] = []

    @task
    def after() -> None:
        ran.append(1)

    @flow
    def pipeline() -> str:
        with pytest.raises(ValueError, match="first failed"):
            after(wait_for=[boom.submit("first failed")])
        return "handled"

    assert pipeline() == "handled"
    assert ran == []
