"""`task.submit()`, `task.map()`, `wait_for`, futures as arguments, and `wait` / `as_completed`."""

from __future__ import annotations

import threading

import pytest
from sdk_support import Records

from headwater import HeadwaterFuture, flow, task, unmapped
from headwater.core.states import StateType
from headwater.futures import as_completed, wait

BLOCK_TIMEOUT = 20.0  # how long a task waits on an event before giving up (never reached when all is well)


@task
def add(x: int, y: int) -> int:
    return x + y


@task
def total(values: list[int]) -> int:
    return sum(values)


def test_submit_returns_a_future_with_result_wait_and_state(records: Records) -> None:
    @flow
    def pipeline() -> tuple[bool, int, str, bool]:
        future = add.submit(1, 2)
        is_future = isinstance(future, HeadwaterFuture)
        future.wait()
        return is_future, future.result(), future.state.name, future.done()

    assert pipeline() == (True, 3, "Completed", True)
    (tr,) = records.task_runs(records.only_flow_run(flow_name=["pipeline"]).id)
    assert tr.state_type is StateType.COMPLETED


def test_future_task_run_id_is_the_recorded_run(records: Records) -> None:
    @flow
    def pipeline() -> object:
        future = add.submit(1, 1)
        future.wait()
        return future.task_run_id

    task_run_id = pipeline()
    assert records.task_run(task_run_id).name == "add-0"


def test_future_of_a_failed_run_reraises_on_result() -> None:
    @task
    def fail() -> None:
        raise LookupError("not there")

    @flow
    def pipeline() -> tuple[bool, str]:
        future = fail.submit()
        with pytest.raises(LookupError, match="not there"):
            future.result()
        exc = future.result(raise_on_failure=False)
        return future.state.is_failed(), type(exc).__name__

    assert pipeline() == (True, "LookupError")


def test_future_is_pending_until_its_run_finishes() -> None:
    release = threading.Event()

    @task
    def blocked() -> str:
        assert release.wait(BLOCK_TIMEOUT)
        return "released"

    @flow
    def pipeline() -> tuple[bool, bool, str]:
        future = blocked.submit()
        pending = future.state.is_pending() and not future.done()
        with pytest.raises(TimeoutError):
            future.result(timeout=0.05)
        release.set()
        value = future.result()
        return pending, future.state.is_pending(), value

    assert pipeline() == (True, False, "released")


def test_futures_passed_as_arguments_are_resolved_also_inside_collections() -> None:
    @task
    def describe(value: int, many: list[int], named: dict[str, int]) -> tuple[int, list[int], dict[str, int]]:
        return value, many, named

    @flow
    def pipeline() -> tuple[int, list[int], dict[str, int]]:
        a = add.submit(1, 1)
        b = add.submit(2, 2)
        return describe.submit(a, [a, b], {"b": b}).result()

    assert pipeline() == (2, [2, 4], {"b": 4})


def test_futures_passed_to_a_direct_call_are_resolved() -> None:
    @flow
    def pipeline() -> int:
        return add(add.submit(1, 2), 10)

    assert pipeline() == 13


def test_wait_for_orders_runs_without_passing_data() -> None:
    order: list[str] = []
    first_may_finish = threading.Event()

    @task
    def first() -> None:
        assert first_may_finish.wait(BLOCK_TIMEOUT)
        order.append("first")

    @task
    def second() -> None:
        order.append("second")

    @flow
    def pipeline() -> None:
        a = first.submit()
        b = second.submit(wait_for=[a])
        first_may_finish.set()
        b.wait()

    pipeline()
    assert order == ["first", "second"]


def test_wait_for_on_a_direct_call() -> None:
    order: list[str] = []

    @task
    def step(name: str) -> None:
        order.append(name)

    @flow
    def pipeline() -> None:
        a = step.submit("a")
        step("b", wait_for=[a])

    pipeline()
    assert order == ["a", "b"]


def test_map_runs_one_task_run_per_item(records: Records) -> None:
    @flow
    def pipeline() -> list[int]:
        futures = add.map([1, 2, 3], [10, 20, 30])
        assert len(futures) == 3
        return futures.result()

    assert pipeline() == [11, 22, 33]
    runs = records.task_runs(records.only_flow_run(flow_name=["pipeline"]).id)
    assert sorted(r.name for r in runs) == ["add-0", "add-1", "add-2"]


def test_map_with_unmapped_passes_the_value_whole() -> None:
    @task
    def scale(x: int, factors: list[int]) -> list[int]:
        return [x * f for f in factors]

    @flow
    def pipeline() -> list[list[int]]:
        return scale.map([1, 2], unmapped([1, 10])).result()

    assert pipeline() == [[1, 10], [2, 20]]


def test_map_passes_strings_and_dicts_whole_and_maps_keyword_iterables() -> None:
    @task
    def label(prefix: str, x: int, meta: dict[str, int]) -> str:
        return f"{prefix}{x}{meta['k']}"

    @flow
    def pipeline() -> list[str]:
        return label.map("n", x=[1, 2], meta={"k": 0}).result()

    assert pipeline() == ["n10", "n20"]


def test_map_over_a_future_of_a_list_and_feeding_a_reduce() -> None:
    @task
    def numbers() -> list[int]:
        return [1, 2, 3]

    @flow
    def pipeline() -> int:
        squares = add.map(numbers.submit(), unmapped(0))
        return total(squares)  # a list of futures is resolved into a list of values

    assert pipeline() == 6


def test_flow_returning_map_futures_gives_their_values_or_fails_with_them() -> None:
    @task
    def check(x: int) -> int:
        if x < 0:
            raise ValueError(f"negative: {x}")
        return x

    @flow
    def mapped(values: list[int]) -> object:
        return check.map(values)

    assert mapped([1, 2]) == [1, 2]
    state = mapped([1, -1, -2], return_state=True)
    assert state.is_failed() and state.message == "2/3 states failed."
    with pytest.raises(ValueError, match="negative: -1"):
        state.result()


def test_map_refuses_iterables_of_different_lengths_and_no_iterable() -> None:
    @flow
    def unequal() -> None:
        add.map([1, 2], [1, 2, 3])

    @flow
    def nothing_to_map() -> None:
        add.map(1, 2)

    with pytest.raises(ValueError, match="equal length"):
        unequal()
    with pytest.raises(ValueError, match="iterable"):
        nothing_to_map()


def test_map_with_a_failed_item_fails_only_that_item() -> None:
    @task
    def invert(x: int) -> float:
        return 1 / x

    @flow
    def pipeline() -> list[str]:
        return [f.state.name for f in _waited(invert.map([1, 0, 2]))]

    assert pipeline() == ["Completed", "Failed", "Completed"]


def _waited(futures: list[HeadwaterFuture[float]]) -> list[HeadwaterFuture[float]]:
    wait(futures)
    return futures


def test_wait_returns_done_and_not_done() -> None:
    release = threading.Event()

    @task
    def blocked() -> int:
        assert release.wait(BLOCK_TIMEOUT)
        return 1

    @flow
    def pipeline() -> tuple[int, int, int, int]:
        quick = add.submit(0, 0)
        slow = blocked.submit()
        quick.wait()
        first = wait([quick, slow], timeout=0.1)
        release.set()
        second = wait([quick, slow])
        assert first.done == {quick} and first.not_done == {slow}
        return len(first.done), len(first.not_done), len(second.done), len(second.not_done)

    assert pipeline() == (1, 1, 2, 0)


def test_as_completed_yields_in_the_order_runs_finish() -> None:
    release = threading.Event()

    @task
    def slow() -> str:
        assert release.wait(BLOCK_TIMEOUT)
        return "slow"

    @task
    def fast() -> str:
        return "fast"

    @flow
    def pipeline() -> list[str]:
        futures = [slow.submit(), fast.submit()]
        seen = []
        for future in as_completed(futures):
            seen.append(future.result())
            release.set()  # the slow run may finish only once the fast one was yielded
        return seen

    assert pipeline() == ["fast", "slow"]


def test_submitted_runs_are_finished_before_the_flow_returns(records: Records) -> None:
    done = []

    @task
    def side_effect(i: int) -> None:
        done.append(i)

    @flow
    def pipeline() -> None:
        for i in range(5):
            side_effect.submit(i)  # never waited on explicitly

    pipeline()
    assert sorted(done) == [0, 1, 2, 3, 4]
    runs = records.task_runs(records.only_flow_run(flow_name=["pipeline"]).id)
    assert [r.state_type for r in runs] == [StateType.COMPLETED] * 5


def test_submit_outside_a_flow_runs_the_function() -> None:
    future = add.submit(2, 3)
    assert future.result(timeout=BLOCK_TIMEOUT) == 5
    assert add.map([1, 2], [3, 4]).result(timeout=BLOCK_TIMEOUT) == [4, 6]


def test_add_done_callback_is_called_with_the_future() -> None:
    @flow
    def pipeline() -> int:
        called = threading.Event()
        got: list[HeadwaterFuture[int]] = []
        future = add.submit(4, 4)
        future.add_done_callback(lambda f: (got.append(f), called.set()))
        assert called.wait(BLOCK_TIMEOUT)
        return got[0].result()

    assert pipeline() == 8
