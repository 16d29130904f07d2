"""Task caching: a task whose cache key has a fresh persisted result is not run again; it enters a
`Cached` state holding that result."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sdk_support import Records, wait_until

from headwater import flow, task
from headwater.cache_policies import INPUTS, NONE, TASK_SOURCE
from headwater.core.states import StateType


def _counting_flow(tsk: Any) -> Any:
    @flow
    def pipeline(*args: Any) -> tuple[Any, str]:
        state = tsk(*args, return_state=True)
        return state.result(), state.name

    return pipeline


def test_inputs_policy_caches_by_arguments_across_flow_runs(records: Records) -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS)
    def expensive(x: int) -> int:
        calls.append(x)
        return x * 10

    pipeline = _counting_flow(expensive)
    assert pipeline(1) == (10, "Completed")
    assert pipeline(1) == (10, "Cached")
    assert pipeline(2) == (20, "Completed")
    assert calls == [1, 2]
    cached_runs = [t for r in records.flow_runs() for t in records.task_runs(r.id) if t.state_name == "Cached"]
    assert len(cached_runs) == 1
    assert cached_runs[0].state_type is StateType.COMPLETED
    assert cached_runs[0].cache_key


def test_cached_within_one_flow_run() -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS)
    def expensive(x: int) -> int:
        calls.append(x)
        return x + 1

    @flow
    def pipeline() -> list[str]:
        return [expensive(5, return_state=True).name for _ in range(3)]

    assert pipeline() == ["Completed", "Cached", "Cached"]
    assert calls == [5]


def test_task_source_policy_ignores_arguments() -> None:
    calls: list[int] = []

    @task(cache_policy=TASK_SOURCE)
    def source_keyed(x: int) -> int:
        calls.append(x)
        return x

    pipeline = _counting_flow(source_keyed)
    assert pipeline(1) == (1, "Completed")
    assert pipeline(2) == (1, "Cached")  # same source: the stored result, whatever the input
    assert calls == [1]


def test_none_policy_never_caches() -> None:
    calls: list[int] = []

    @task(cache_policy=NONE)
    def uncached(x: int) -> int:
        calls.append(x)
        return x

    pipeline = _counting_flow(uncached)
    assert pipeline(1) == (1, "Completed")
    assert pipeline(1) == (1, "Completed")
    assert calls == [1, 1]


def test_without_a_policy_tasks_are_not_cached() -> None:
    calls: list[int] = []

    @task
    def plain(x: int) -> int:
        calls.append(x)
        return x

    pipeline = _counting_flow(plain)
    pipeline(1)
    pipeline(1)
    assert calls == [1, 1]


def test_combined_policies_need_every_part_to_match() -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS + TASK_SOURCE)
    def combined(x: int) -> int:
        calls.append(x)
        return x

    pipeline = _counting_flow(combined)
    assert pipeline(1)[1] == "Completed"
    assert pipeline(2)[1] == "Completed"  # the inputs differ
    assert pipeline(1)[1] == "Cached"
    assert calls == [1, 2]


def test_the_same_inputs_to_different_tasks_are_cached_apart() -> None:
    @task(cache_policy=INPUTS + TASK_SOURCE)
    def first(x: int) -> str:
        return "first"

    @task(cache_policy=INPUTS + TASK_SOURCE)
    def second(x: int) -> str:
        return "second"

    @flow
    def pipeline() -> tuple[str, str]:
        return first(1), second(1)

    assert pipeline() == ("first", "second")
    assert pipeline() == ("first", "second")


def test_cache_key_fn_chooses_the_key() -> None:
    calls: list[str] = []

    def by_lowercase_name(context: Any, parameters: dict[str, Any]) -> str:
        return parameters["name"].lower()

    @task(cache_key_fn=by_lowercase_name)
    def greet(name: str) -> str:
        calls.append(name)
        return f"hello {name}"

    pipeline = _counting_flow(greet)
    assert pipeline("Ada") == ("hello Ada", "Completed")
    assert pipeline("ADA") == ("hello Ada", "Cached")
    assert pipeline("Bob") == ("hello Bob", "Completed")
    assert calls == ["Ada", "Bob"]


def test_cache_key_fn_returning_none_does_not_cache() -> None:
    calls: list[int] = []

    @task(cache_key_fn=lambda ctx, params: None)
    def never(x: int) -> int:
        calls.append(x)
        return x

    pipeline = _counting_flow(never)
    pipeline(1)
    pipeline(1)
    assert calls == [1, 1]


def test_cache_expiration_lets_a_cached_result_expire() -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS, cache_expiration=timedelta(seconds=3))
    def expiring(x: int) -> int:
        calls.append(x)
        return len(calls)

    pipeline = _counting_flow(expiring)
    started = time.monotonic()
    assert pipeline(1) == (1, "Completed")
    assert pipeline(1) == (1, "Cached")
    # Once the expiration has passed, the stored result is stale and the task runs again.
    recomputed = wait_until(lambda: (r := pipeline(1))[1] == "Completed" and r, timeout=30, interval=0.2)
    assert recomputed == (2, "Completed")
    assert time.monotonic() - started >= 2.9
    assert pipeline(1) == (2, "Cached")  # the fresh result is cached in turn


def test_cache_expiration_in_seconds() -> None:
    @task(cache_policy=INPUTS, cache_expiration=3600)
    def kept(x: int) -> int:
        return x

    pipeline = _counting_flow(kept)
    pipeline(1)
    assert pipeline(1) == (1, "Cached")


def test_refresh_cache_runs_again_and_updates_the_cache() -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS)
    def counted(x: int) -> int:
        calls.append(x)
        return len(calls)

    refreshing = counted.with_options(refresh_cache=True)
    assert _counting_flow(counted)(1) == (1, "Completed")
    assert _counting_flow(refreshing)(1) == (2, "Completed")
    assert _counting_flow(counted)(1) == (2, "Cached")  # the refreshed result


def test_persist_result_false_turns_caching_off() -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS, persist_result=False)
    def unpersisted(x: int) -> int:
        calls.append(x)
        return x

    pipeline = _counting_flow(unpersisted)
    pipeline(1)
    pipeline(1)
    assert calls == [1, 1]


def test_cached_result_is_read_from_the_tasks_result_storage(tmp_path: Any) -> None:
    @task(cache_policy=INPUTS, result_storage=str(tmp_path / "cache"))
    def stored(x: int) -> dict[str, int]:
        return {"x": x}

    pipeline = _counting_flow(stored)
    pipeline(1)
    assert len(list((tmp_path / "cache").iterdir())) == 1
    assert pipeline(1) == ({"x": 1}, "Cached")


def test_inputs_policy_can_leave_an_input_out() -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS - "verbose")
    def quiet(x: int, verbose: bool) -> int:
        calls.append(x)
        return x

    pipeline = _counting_flow(quiet)
    pipeline(1, True)
    assert pipeline(1, False) == (1, "Cached")
    assert calls == [1]


def test_submitted_and_mapped_tasks_are_cached() -> None:
    calls: list[int] = []

    @task(cache_policy=INPUTS)
    def square(x: int) -> int:
        calls.append(x)
        return x * x

    @flow
    def pipeline() -> list[str]:
        futures = square.map([1, 2, 3])
        futures.wait()
        return [f.state.name for f in futures]

    assert pipeline() == ["Completed"] * 3
    assert pipeline() == ["Cached"] * 3
    assert sorted(calls) == [1, 2, 3]
