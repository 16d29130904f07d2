"""Subflows: a flow called inside a flow is a child run, linked to its parent through a task run."""

from __future__ import annotations

import asyncio

import pytest
from sdk_support import Records

from headwater import flow, task
from headwater.core.states import StateType
from headwater.runtime import flow_run


@flow
def child(x: int) -> int:
    return x * 2


def test_subflow_returns_its_value_and_is_linked_to_its_parent(records: Records) -> None:
    @flow
    def parent() -> tuple[object, int]:
        return flow_run.id, child(21)

    parent_id, value = parent()
    assert value == 42

    (sub,) = records.flow_runs(parent_flow_run_id=parent_id)
    assert sub.flow_name == "child"
    assert sub.parameters == {"x": 21}
    assert sub.state_type is StateType.COMPLETED
    assert sub.parent_flow_run_id == parent_id

    # The call is a task run of the parent that points at the child, and the child points back at it.
    (call_run,) = records.task_runs(parent_id)
    assert call_run.child_flow_run_id == sub.id
    assert sub.parent_task_run_id == call_run.id
    assert call_run.state_type is StateType.COMPLETED


def test_subflow_is_not_listed_as_a_top_level_run(records: Records) -> None:
    @flow
    def parent() -> object:
        child(1)
        return flow_run.id

    parent_id = parent()
    top = records.flow_runs(is_subflow=False)
    assert [r.id for r in top] == [parent_id]
    assert len(records.flow_runs(is_subflow=True)) == 1


def test_subflow_sees_its_parent_in_the_runtime(records: Records) -> None:
    @flow
    def inner() -> tuple[object, object, object]:
        return flow_run.id, flow_run.parent_flow_run_id, flow_run.parent_task_run_id

    @flow
    def outer() -> tuple[object, tuple[object, object, object]]:
        return flow_run.id, inner()

    outer_id, (inner_id, parent_id, parent_task_run_id) = outer()
    assert parent_id == outer_id
    assert inner_id != outer_id
    assert records.flow_run(inner_id).parent_task_run_id == parent_task_run_id


def test_subflow_failure_raises_in_the_parent_like_a_function_call(records: Records) -> None:
    @flow
    def failing_child() -> None:
        raise ValueError("child broke")

    @flow
    def parent() -> str:
        with pytest.raises(ValueError, match="child broke"):
            failing_child()
        return "recovered"

    assert parent() == "recovered"
    parent_run = records.only_flow_run(flow_name=["parent"])
    assert parent_run.state_type is StateType.COMPLETED
    (sub,) = records.flow_runs(parent_flow_run_id=parent_run.id)
    assert sub.state_type is StateType.FAILED
    (call_run,) = records.task_runs(parent_run.id)
    assert call_run.state_type is StateType.FAILED  # the task run standing for the call mirrors the child


def test_unhandled_subflow_failure_fails_the_parent(records: Records) -> None:
    @flow
    def failing_child() -> None:
        raise ValueError("child broke")

    @flow
    def parent() -> None:
        failing_child()

    with pytest.raises(ValueError, match="child broke"):
        parent()
    assert records.only_flow_run(flow_name=["parent"]).state_type is StateType.FAILED


def test_subflow_return_state(records: Records) -> None:
    @flow
    def failing_child() -> None:
        raise ValueError("nope")

    @flow
    def parent() -> tuple[bool, str]:
        state = failing_child(return_state=True)
        return state.is_failed(), type(state.result(raise_on_failure=False)).__name__

    assert parent() == (True, "ValueError")


def test_subflow_tasks_belong_to_the_subflow(records: Records) -> None:
    @task
    def work() -> int:
        return 1

    @flow
    def inner() -> int:
        return work() + work()

    @flow
    def outer() -> int:
        return inner() + work()

    assert outer() == 3
    outer_run = records.only_flow_run(flow_name=["outer"])
    inner_run = records.only_flow_run(flow_name=["inner"])
    assert sorted(t.name for t in records.task_runs(inner_run.id)) == ["work-0", "work-1"]
    outer_tasks = records.task_runs(outer_run.id)
    assert sorted(t.name for t in outer_tasks if t.child_flow_run_id is None) == ["work-0"]


def test_subflow_called_inside_a_task_is_linked_to_the_flow(records: Records) -> None:
    @task
    def wrapper() -> int:
        return child(5)

    @flow
    def outer() -> object:
        wrapper()
        return flow_run.id

    outer_id = outer()
    (sub,) = records.flow_runs(parent_flow_run_id=outer_id)
    assert sub.flow_name == "child" and sub.state_type is StateType.COMPLETED


def test_nested_subflows_form_a_chain(records: Records) -> None:
    @flow
    def level2() -> object:
        return flow_run.id

    @flow
    def level1() -> object:
        return level2()

    @flow
    def level0() -> tuple[object, object]:
        return flow_run.id, level1()

    top_id, bottom_id = level0()
    (middle,) = records.flow_runs(parent_flow_run_id=top_id)
    (bottom,) = records.flow_runs(parent_flow_run_id=middle.id)
    assert bottom.id == bottom_id


def test_many_subflow_calls_are_each_linked(records: Records) -> None:
    @flow
    def parent() -> object:
        for i in range(4):
            child(i)
        return flow_run.id

    parent_id = parent()
    subs = records.flow_runs(parent_flow_run_id=parent_id)
    assert sorted(s.parameters["x"] for s in subs) == [0, 1, 2, 3]
    calls = records.task_runs(parent_id)
    assert {c.child_flow_run_id for c in calls} == {s.id for s in subs}
    assert len({c.name for c in calls}) == 4  # each call is its own task run


def test_async_subflow_in_an_async_flow(records: Records) -> None:
    @flow
    async def async_child(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    @flow
    async def async_parent() -> tuple[object, int]:
        return flow_run.id, await async_child(1)

    parent_id, value = asyncio.run(async_parent())
    assert value == 2
    (sub,) = records.flow_runs(parent_flow_run_id=parent_id)
    assert sub.state_type is StateType.COMPLETED


def test_sync_subflow_in_an_async_flow(records: Records) -> None:
    @flow
    async def async_parent() -> tuple[object, int]:
        return flow_run.id, child(3)

    parent_id, value = asyncio.run(async_parent())
    assert value == 6
    (sub,) = records.flow_runs(parent_flow_run_id=parent_id)
    assert sub.flow_name == "child"


def test_subflow_logs_are_recorded_under_the_subflow_run(records: Records) -> None:
    from headwater import get_run_logger

    @flow
    def chatty_child() -> object:
        get_run_logger().info("from the child")
        return flow_run.id

    @flow
    def parent() -> tuple[object, object]:
        get_run_logger().info("from the parent")
        return flow_run.id, chatty_child()

    parent_id, child_id = parent()
    assert "from the child" in records.messages(child_id)
    assert "from the child" not in records.messages(parent_id)
    assert "from the parent" in records.messages(parent_id)
