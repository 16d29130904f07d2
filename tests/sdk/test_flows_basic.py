"""`@flow`: calling a flow runs it, returns its value, and records the run with its options."""

from __future__ import annotations

import pytest
from sdk_support import Records, state_names

from headwater import Flow, flow, task
from headwater.core.states import StateType
from headwater.runtime import flow_run


def test_bare_flow_returns_its_value_and_is_recorded_completed(records: Records) -> None:
    seen = {}

    @flow
    def add_numbers(x: int, y: int) -> int:
        seen["id"] = flow_run.id
        return x + y

    assert add_numbers(2, 3) == 5
    run = records.flow_run(seen["id"])
    assert run.flow_name == "add-numbers"  # the default name is the function's, with - for _
    assert run.state_type is StateType.COMPLETED
    assert run.parameters == {"x": 2, "y": 3}
    assert run.start_time is not None and run.end_time is not None
    assert run.end_time >= run.start_time


def test_flow_with_options_records_name_tags_and_keeps_description_and_version(records: Records) -> None:
    @flow(name="nightly etl", description="Loads the day.", version="1.2", tags=["etl", "nightly"])
    def etl() -> str:
        return flow_run.id

    run_id = etl()
    run = records.flow_run(run_id)
    assert run.flow_name == "nightly etl"
    assert sorted(run.tags) == ["etl", "nightly"]
    assert isinstance(etl, Flow)
    assert etl.name == "nightly etl"
    assert str(etl) == "nightly etl"
    assert etl.description == "Loads the day."
    assert etl.version == "1.2"


def test_description_defaults_to_the_docstring() -> None:
    @flow
    def documented() -> None:
        """Does the thing."""

    assert documented.description == "Does the thing."


def test_flow_keeps_the_wrapped_function_metadata() -> None:
    @flow
    def named_thing(a: int) -> int:
        """Doc."""
        return a

    assert named_thing.__name__ == "named_thing"
    assert named_thing.__doc__ == "Doc."
    assert named_thing.fn(4) == 4  # the undecorated function stays reachable


def test_exception_in_flow_is_raised_to_the_caller_and_recorded_failed(records: Records) -> None:
    @flow
    def broken() -> None:
        raise ValueError("no rows today")

    with pytest.raises(ValueError, match="no rows today"):
        broken()
    run = records.only_flow_run(flow_name=["broken"])
    assert run.state_type is StateType.FAILED
    assert run.state is not None and "no rows today" in (run.state.message or "")


def test_state_history_is_recorded_in_order(records: Records) -> None:
    @flow
    def simple() -> int:
        return 1

    state = simple(return_state=True)
    run = records.only_flow_run(flow_name=["simple"])
    names = state_names(records.flow_run_states(run.id))
    assert names[-2:] == ["Running", "Completed"]
    assert names[0] in ("Pending", "Running")
    assert records.flow_run_states(run.id)[-1].id == state.id  # the returned state is the recorded one


def test_each_call_is_a_new_run(records: Records) -> None:
    @flow
    def again() -> str:
        return flow_run.id

    ids = {again() for _ in range(3)}
    assert len(ids) == 3
    assert {r.id for r in records.flow_runs(flow_name=["again"])} == ids


def test_flow_run_gets_a_generated_name_by_default(records: Records) -> None:
    @flow
    def unnamed() -> str:
        return flow_run.name

    name = unnamed()
    assert name and isinstance(name, str)
    assert records.only_flow_run(flow_name=["unnamed"]).name == name


def test_flow_with_varargs_and_kwargs(records: Records) -> None:
    @flow
    def spread(first: int, *rest: int, **options: str) -> tuple[int, tuple[int, ...], dict[str, str]]:
        return first, rest, options

    assert spread(1, 2, 3, colour="blue") == (1, (2, 3), {"colour": "blue"})


def test_flow_calling_tasks_records_them_under_the_run(records: Records) -> None:
    @task
    def double(x: int) -> int:
        return 2 * x

    @flow
    def pipeline() -> list[int]:
        return [double(i) for i in range(3)]

    state = pipeline(return_state=True)
    assert state.result() == [0, 2, 4]
    run = records.only_flow_run(flow_name=["pipeline"])
    task_runs = records.task_runs(run.id)
    assert sorted(t.name for t in task_runs) == ["double-0", "double-1", "double-2"]
    assert all(t.state_type is StateType.COMPLETED for t in task_runs)


def test_invalid_options_are_refused_naming_the_option() -> None:
    with pytest.raises(ValueError, match="retries"):
        flow(retries=-1)(lambda: None)
    with pytest.raises(ValueError, match="timeout_seconds"):
        flow(timeout_seconds=0)(lambda: None)
    with pytest.raises(TypeError, match="decorates functions"):
        Flow(42)  # type: ignore[arg-type]


def test_flow_called_from_a_worker_thread_runs_and_is_recorded(records: Records) -> None:
    import threading

    @flow
    def threaded() -> str:
        return threading.current_thread().name

    box: list[str] = []
    t = threading.Thread(target=lambda: box.append(threaded()), name="not-main")
    t.start()
    t.join(30)
    assert box == ["not-main"]
    assert records.only_flow_run(flow_name=["threaded"]).state_type is StateType.COMPLETED
