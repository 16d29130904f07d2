"""Async flows and tasks: the same behaviours as sync ones, awaited; timeouts cancel at the next await."""

from __future__ import annotations

import asyncio
import time

import pytest
from sdk_support import Records

from headwater import flow, get_run_logger, task
from headwater.core.states import StateType
from headwater.runtime import flow_run, task_run

WAIT = 20.0


@task
async def async_double(x: int) -> int:
    await asyncio.sleep(0)
    return x * 2


@task
def sync_inc(x: int) -> int:
    return x + 1


def test_async_flow_returns_a_coroutine_and_records_the_run(records: Records) -> None:
    @flow
    async def pipeline(x: int) -> tuple[object, int]:
        return flow_run.id, await async_double(x)

    coro = pipeline(4)
    assert asyncio.iscoroutine(coro)
    run_id, value = asyncio.run(coro)
    assert value == 8
    run = records.flow_run(run_id)
    assert run.state_type is StateType.COMPLETED and run.parameters == {"x": 4}
    (tr,) = records.task_runs(run_id)
    assert tr.name == "async_double-0" and tr.state_type is StateType.COMPLETED


def test_async_flow_can_call_sync_tasks_and_submit_both_kinds() -> None:
    @flow
    async def pipeline() -> list[int]:
        a = sync_inc(1)
        b = async_double.submit(a)
        c = sync_inc.submit(b)
        return [a, b.result(), c.result()]

    assert asyncio.run(pipeline()) == [2, 4, 5]


def test_sync_flow_can_submit_and_map_async_tasks() -> None:
    @flow
    def pipeline() -> list[int]:
        return async_double.map([1, 2, 3]).result()

    assert pipeline() == [2, 4, 6]


def test_async_tasks_awaited_together_run_concurrently() -> None:
    @task
    async def waiter(event_box: dict[str, asyncio.Event]) -> str:
        await asyncio.wait_for(event_box["event"].wait(), WAIT)  # only set if `setter` runs meanwhile
        return "waited"

    @task
    async def setter(event_box: dict[str, asyncio.Event]) -> str:
        event_box["event"].set()
        return "set"

    @flow
    async def pipeline() -> list[str]:
        box = {"event": asyncio.Event()}
        return list(await asyncio.gather(waiter(box), setter(box)))

    assert asyncio.run(pipeline()) == ["waited", "set"]


def test_async_task_exception_raises_and_fails_the_run(records: Records) -> None:
    @task
    async def broken() -> None:
        await asyncio.sleep(0)
        raise ValueError("async failure")

    @flow
    async def pipeline() -> None:
        await broken()

    with pytest.raises(ValueError, match="async failure"):
        asyncio.run(pipeline())
    run = records.only_flow_run(flow_name=["pipeline"])
    assert run.state_type is StateType.FAILED
    (tr,) = records.task_runs(run.id)
    assert tr.state_type is StateType.FAILED


def test_async_return_state_and_retries(records: Records) -> None:
    attempts: list[int] = []

    @task(retries=2)
    async def flaky() -> int:
        attempts.append(task_run.run_count)
        if len(attempts) < 3:
            raise ConnectionError("not yet")
        return len(attempts)

    @flow
    async def pipeline() -> tuple[str, int]:
        state = await flaky(return_state=True)
        return state.name, state.result()

    assert asyncio.run(pipeline()) == ("Completed", 3)
    assert attempts == [1, 2, 3]
    state = asyncio.run(pipeline.with_options(name="again")(return_state=True))
    assert state.is_completed()


def test_async_flow_retries(records: Records) -> None:
    attempts: list[int] = []

    @flow(retries=1)
    async def flaky_flow() -> int:
        attempts.append(flow_run.run_count)
        if len(attempts) == 1:
            raise ConnectionError("first")
        return 1

    assert asyncio.run(flaky_flow()) == 1
    assert attempts == [1, 2]
    assert records.only_flow_run(flow_name=["flaky-flow"]).run_count == 2


def test_async_task_timeout_cancels_at_the_next_await(records: Records) -> None:
    @task(timeout_seconds=0.5)
    async def slow() -> None:
        await asyncio.sleep(20)

    @flow
    async def pipeline() -> str:
        return (await slow(return_state=True)).name

    started = time.monotonic()
    assert asyncio.run(pipeline()) == "TimedOut"
    assert time.monotonic() - started < 8
    (tr,) = records.task_runs(records.only_flow_run(flow_name=["pipeline"]).id)
    assert (tr.state_type, tr.state_name) == (StateType.FAILED, "TimedOut")


def test_async_flow_timeout(records: Records) -> None:
    @flow(timeout_seconds=0.5)
    async def slow_flow() -> None:
        await asyncio.sleep(20)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        asyncio.run(slow_flow())
    assert time.monotonic() - started < 8
    run = records.only_flow_run(flow_name=["slow-flow"])
    assert (run.state_type, run.state_name) == (StateType.FAILED, "TimedOut")


def test_submitted_async_task_timeout() -> None:
    @task(timeout_seconds=0.5)
    async def slow() -> None:
        await asyncio.sleep(20)

    @flow
    def pipeline() -> str:
        return slow.submit().wait_for_state().name

    started = time.monotonic()
    assert pipeline() == "TimedOut"
    assert time.monotonic() - started < 8


def test_async_logging_and_log_prints(records: Records) -> None:
    @task
    async def chatty() -> None:
        get_run_logger().info("from an async task")
        print("printed in an async task")

    @flow(log_prints=True)
    async def pipeline() -> object:
        get_run_logger().info("from an async flow")
        await chatty()
        return flow_run.id

    messages = records.messages(asyncio.run(pipeline()))
    for expected in ("from an async flow", "from an async task", "printed in an async task"):
        assert expected in messages


def test_async_task_called_outside_a_flow_is_a_plain_coroutine() -> None:
    assert asyncio.run(async_double(5)) == 10


def test_async_flow_hooks_and_return_state() -> None:
    seen: list[str] = []

    @flow(on_failure=[lambda f, r, s: seen.append(s.type.value)])
    async def failing() -> None:
        raise RuntimeError("async flow failed")

    state = asyncio.run(failing(return_state=True))
    assert state.is_failed() and seen == ["FAILED"]
    with pytest.raises(RuntimeError, match="async flow failed"):
        state.result()


def test_two_async_flows_run_concurrently_on_one_loop(records: Records) -> None:
    @flow
    async def waits(event_box: dict[str, asyncio.Event]) -> str:
        await asyncio.wait_for(event_box["event"].wait(), WAIT)
        return "waited"

    @flow
    async def sets(event_box: dict[str, asyncio.Event]) -> str:
        event_box["event"].set()
        return "set"

    async def main() -> list[str]:
        box = {"event": asyncio.Event()}
        return list(await asyncio.gather(waits(box), sets(box)))

    assert asyncio.run(main()) == ["waited", "set"]
    assert {r.state_type for r in records.flow_runs()} == {StateType.COMPLETED}
