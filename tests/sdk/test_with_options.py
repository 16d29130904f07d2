"""`.with_options(...)`: a copy of a flow or task with some options changed; the original is untouched."""

from __future__ import annotations

from sdk_support import Records

from headwater import Flow, Task, flow, task
from headwater.runtime import flow_run, task_run
from headwater.task_runners import ThreadPoolTaskRunner


def test_flow_with_options_returns_a_changed_copy(records: Records) -> None:
    @flow(name="original", tags=["a"], retries=0)
    def pipeline(x: int) -> tuple[str, list[str]]:
        return flow_run.flow_name, flow_run.tags

    renamed = pipeline.with_options(name="renamed", tags=["b"])
    assert isinstance(renamed, Flow) and renamed is not pipeline
    assert renamed(1) == ("renamed", ["b"])
    assert pipeline(1) == ("original", ["a"])
    assert {r.flow_name for r in records.flow_runs()} == {"original", "renamed"}


def test_flow_with_options_keeps_the_options_it_does_not_change() -> None:
    attempts: list[int] = []

    @flow(retries=1, flow_run_name="run-{x}", log_prints=True)
    def pipeline(x: int) -> str:
        attempts.append(x)
        if len(attempts) == 1:
            raise ConnectionError("first attempt")
        return flow_run.name

    copy = pipeline.with_options(description="changed")
    assert copy.description == "changed"
    assert copy(5) == "run-5"  # retried, and named by the kept template
    assert attempts == [5, 5]


def test_flow_with_options_retries_and_timeout() -> None:
    @flow
    def flaky() -> int:
        raise ConnectionError("always")

    retried = flaky.with_options(retries=2, retry_delay_seconds=0)
    state = retried(return_state=True)
    assert state.is_failed()
    assert flaky.retries == 0 and retried.retries == 2


def test_flow_with_options_task_runner() -> None:
    runner = ThreadPoolTaskRunner(max_workers=3)

    @flow
    def pipeline() -> None:
        pass

    assert pipeline.with_options(task_runner=runner).task_runner is runner
    assert pipeline.task_runner is not runner


def test_task_with_options_returns_a_changed_copy(records: Records) -> None:
    @task(name="fetch", tags=["io"])
    def fetch(x: int) -> tuple[str, list[str]]:
        return task_run.name, task_run.tags

    fast = fetch.with_options(name="fetch fast", tags=["cpu"], task_run_name="fast-{x}")
    assert isinstance(fast, Task) and fast is not fetch

    @flow
    def pipeline() -> list[tuple[str, list[str]]]:
        return [fetch(1), fast(2)]

    assert pipeline() == [("fetch-0", ["io"]), ("fast-2", ["cpu"])]
    assert fetch.name == "fetch"


def test_task_with_options_retries() -> None:
    attempts: list[int] = []

    @task
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("not yet")
        return "ok"

    @flow
    def pipeline() -> str:
        return flaky.with_options(retries=2)()

    assert pipeline() == "ok"
    assert len(attempts) == 3


def test_task_with_options_cache_and_results(tmp_path: object) -> None:
    from headwater.cache_policies import INPUTS

    calls: list[int] = []

    @task
    def compute(x: int) -> int:
        calls.append(x)
        return x

    cached = compute.with_options(cache_policy=INPUTS, result_storage=str(tmp_path))

    @flow
    def pipeline() -> list[str]:
        states = [cached(1, return_state=True), cached(1, return_state=True), compute(1, return_state=True)]
        return [s.name for s in states]

    assert pipeline() == ["Completed", "Cached", "Completed"]
    assert calls == [1, 1]


def test_task_with_options_keeps_hooks_and_log_prints(records: Records) -> None:
    seen: list[str] = []

    @task(on_completion=[lambda t, r, s: seen.append(t.name)], log_prints=True)
    def step() -> None:
        print("printed")

    @flow
    def pipeline() -> object:
        step.with_options(name="renamed")()
        return flow_run.id

    run_id = pipeline()
    assert seen == ["renamed"]
    assert "printed" in records.messages(run_id)
