"""`@task`: inside a flow a call is a recorded task run returning its value; outside, a plain call."""

from __future__ import annotations

import pytest
from sdk_support import Records

from headwater import Task, flow, task
from headwater.core.states import StateType
from headwater.runtime import flow_run, task_run


def test_task_called_in_a_flow_returns_its_value_and_is_recorded(records: Records) -> None:
    @task
    def add(x: int, y: int) -> int:
        return x + y

    @flow
    def pipeline() -> int:
        return add(1, 2)

    assert pipeline() == 3
    run = records.only_flow_run(flow_name=["pipeline"])
    (tr,) = records.task_runs(run.id)
    assert tr.name == "add-0"
    assert tr.flow_run_id == run.id
    assert tr.state_type is StateType.COMPLETED
    assert tr.run_count == 1
    assert tr.start_time is not None and tr.end_time is not None


def test_task_called_outside_a_flow_is_a_plain_call(records: Records) -> None:
    calls = []

    @task
    def add(x: int, y: int) -> int:
        calls.append(task_run.id)
        return x + y

    assert add(2, 2) == 4
    assert calls == [None]  # no task run: nothing recorded
    assert records.flow_runs() == []


def test_task_exception_raises_in_the_flow_and_fails_the_task_run(records: Records) -> None:
    @task
    def explode() -> None:
        raise KeyError("missing")

    @flow
    def pipeline() -> str:
        with pytest.raises(KeyError, match="missing"):
            explode()
        return "handled"

    assert pipeline() == "handled"
    run = records.only_flow_run(flow_name=["pipeline"])
    assert run.state_type is StateType.COMPLETED  # the flow caught it
    (tr,) = records.task_runs(run.id)
    assert tr.state_type is StateType.FAILED
    assert tr.state is not None and "missing" in (tr.state.message or "")


def test_unhandled_task_exception_fails_the_flow(records: Records) -> None:
    @task
    def explode() -> None:
        raise RuntimeError("kaboom")

    @flow
    def pipeline() -> None:
        explode()

    with pytest.raises(RuntimeError, match="kaboom"):
        pipeline()
    assert records.only_flow_run(flow_name=["pipeline"]).state_type is StateType.FAILED


def test_task_options_name_tags_description_version(records: Records) -> None:
    @task(name="fetch rows", tags=["io"], description="Fetches.", version="3")
    def fetch() -> list[int]:
        return [1]

    @flow
    def pipeline() -> list[int]:
        return fetch()

    pipeline()
    (tr,) = records.task_runs(records.only_flow_run(flow_name=["pipeline"]).id)
    assert tr.name == "fetch rows-0"
    assert tr.tags == ["io"]
    assert isinstance(fetch, Task)
    assert (fetch.name, fetch.description, fetch.version) == ("fetch rows", "Fetches.", "3")


def test_repeated_calls_get_increasing_run_names(records: Records) -> None:
    @task
    def step(i: int) -> int:
        return i

    @task
    def other() -> None:
        pass

    @flow
    def pipeline() -> None:
        for i in range(3):
            step(i)
        other()

    pipeline()
    names = sorted(t.name for t in records.task_runs(records.only_flow_run(flow_name=["pipeline"]).id))
    assert names == ["other-0", "step-0", "step-1", "step-2"]


def test_task_sees_its_flow_run(records: Records) -> None:
    @task
    def which() -> tuple[object, object]:
        return flow_run.id, task_run.flow_run_id

    @flow
    def pipeline() -> tuple[object, object, object]:
        return (flow_run.id, *which())

    outer, seen_from_task, task_flow_run = pipeline()
    assert outer == seen_from_task == task_flow_run


def test_task_may_call_another_task(records: Records) -> None:
    @task
    def inner(x: int) -> int:
        return x * 10

    @task
    def outer(x: int) -> int:
        return inner(x) + 1

    @flow
    def pipeline() -> int:
        return outer(4)

    assert pipeline() == 41
    names = sorted(t.name for t in records.task_runs(records.only_flow_run(flow_name=["pipeline"]).id))
    assert names == ["inner-0", "outer-0"]


def test_task_defined_as_a_method_binds_self() -> None:
    class Counter:
        def __init__(self) -> None:
            self.base = 100

        @task
        def plus(self, x: int) -> int:
            return self.base + x

    @flow
    def pipeline() -> int:
        return Counter().plus(5)

    assert pipeline() == 105


def test_task_returning_none_completes(records: Records) -> None:
    @task
    def nothing() -> None:
        return None

    @flow
    def pipeline() -> tuple[bool, object]:
        state = nothing(return_state=True)
        return state.is_completed(), state.result()

    assert pipeline() == (True, None)


def test_wrong_arguments_to_a_task_raise_a_type_error_naming_them() -> None:
    @task
    def needs_two(a: int, b: int) -> int:
        return a + b

    @flow
    def pipeline() -> None:
        needs_two(1)  # type: ignore[call-arg]

    with pytest.raises(TypeError, match="b"):
        pipeline()


def test_invalid_task_options_are_refused() -> None:
    with pytest.raises(ValueError, match="retry_delay_seconds"):
        task(retry_delay_seconds=-1)(lambda: None)
    with pytest.raises(ValueError, match="retry_jitter_factor"):
        task(retry_jitter_factor=-0.5)(lambda: None)
    with pytest.raises(ValueError, match="timeout_seconds"):
        task(timeout_seconds=-2)(lambda: None)


def test_return_state_outside_a_flow_still_gives_a_state() -> None:
    @task
    def add(x: int, y: int) -> int:
        return x + y

    state = add(1, 2, return_state=True)
    assert state.is_completed() and state.result() == 3
