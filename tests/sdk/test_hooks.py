"""State hooks: `on_completion`, `on_failure`, `on_crashed`, `on_cancellation` on flows (called as
`hook(flow, flow_run, state)`) and `on_completion`, `on_failure` on tasks (`hook(task, task_run, state)`)."""

from __future__ import annotations

from typing import Any

import pytest
from sdk_support import Records

from headwater import flow, task
from headwater.core.states import StateType
from headwater.runtime import flow_run
from headwater.states import Cancelled


class Calls:
    """Records hook calls as (hook name, owner name, run id, state type)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, Any, StateType]] = []

    def hook(self, label: str) -> Any:
        def record(owner: Any, run: Any, state: Any) -> None:
            self.seen.append((label, owner.name, run.id, state.type))

        record.__name__ = label
        return record


def test_flow_on_completion_gets_the_flow_its_run_and_the_final_state() -> None:
    calls = Calls()

    @flow(on_completion=[calls.hook("done"), calls.hook("done again")], on_failure=[calls.hook("failed")])
    def pipeline() -> object:
        return flow_run.id

    run_id = pipeline()
    assert calls.seen == [
        ("done", "pipeline", run_id, StateType.COMPLETED),
        ("done again", "pipeline", run_id, StateType.COMPLETED),
    ]


def test_flow_on_failure_runs_when_the_flow_fails() -> None:
    calls = Calls()
    ids: list[Any] = []

    @flow(on_completion=[calls.hook("done")], on_failure=[calls.hook("failed")])
    def pipeline() -> None:
        ids.append(flow_run.id)
        raise ValueError("broken")

    with pytest.raises(ValueError):
        pipeline()
    assert calls.seen == [("failed", "pipeline", ids[0], StateType.FAILED)]


def test_flow_on_failure_runs_once_after_retries_are_exhausted() -> None:
    calls = Calls()

    @flow(retries=2, on_failure=[calls.hook("failed")])
    def pipeline() -> None:
        raise ValueError("broken")

    pipeline(return_state=True)
    assert len(calls.seen) == 1


def test_flow_on_crashed_runs_when_the_run_is_interrupted(records: Records) -> None:
    calls = Calls()

    @flow(on_crashed=[calls.hook("crashed")], on_failure=[calls.hook("failed")])
    def pipeline() -> None:
        raise KeyboardInterrupt  # as Ctrl-C would, mid-run

    with pytest.raises(KeyboardInterrupt):
        pipeline()
    assert [(label, state) for label, _, _, state in calls.seen] == [("crashed", StateType.CRASHED)]
    run = records.only_flow_run(flow_name=["pipeline"])
    assert run.state_type is StateType.CRASHED


def test_flow_on_cancellation_runs_when_the_run_ends_cancelled() -> None:
    calls = Calls()

    @flow(on_cancellation=[calls.hook("cancelled")], on_failure=[calls.hook("failed")])
    def pipeline() -> object:
        return Cancelled(message="stopped by the user")

    state = pipeline(return_state=True)
    assert state.is_cancelled()
    assert [(label, st) for label, _, _, st in calls.seen] == [("cancelled", StateType.CANCELLED)]


def test_a_failing_hook_is_logged_and_does_not_change_the_state(records: Records) -> None:
    after: list[str] = []

    def bad_hook(flw: Any, run: Any, state: Any) -> None:
        raise RuntimeError("hook broke")

    @flow(on_completion=[bad_hook, lambda f, r, s: after.append("next hook ran")])
    def pipeline() -> object:
        return flow_run.id

    run_id = pipeline()
    assert after == ["next hook ran"]
    assert records.flow_run(run_id).state_type is StateType.COMPLETED
    messages = records.messages(run_id)
    assert any("bad_hook" in m and "hook broke" in m for m in messages)


def test_task_hooks_get_the_task_its_run_and_the_final_state() -> None:
    calls = Calls()
    hooks = {"on_completion": [calls.hook("done")], "on_failure": [calls.hook("failed")]}

    @task(**hooks)  # type: ignore[arg-type]
    def good() -> int:
        return 1

    @task(**hooks)  # type: ignore[arg-type]
    def bad() -> None:
        raise ValueError("no")

    @flow
    def pipeline() -> None:
        good(return_state=True)
        bad.submit().wait()

    pipeline()
    labels = sorted((label, owner, state) for label, owner, _, state in calls.seen)
    assert labels == [("done", "good", StateType.COMPLETED), ("failed", "bad", StateType.FAILED)]


def test_task_on_failure_runs_once_after_its_retries() -> None:
    calls = Calls()

    @task(retries=2, on_failure=[calls.hook("failed")])
    def bad() -> None:
        raise ValueError("no")

    @flow
    def pipeline() -> None:
        bad(return_state=True)

    pipeline()
    assert len(calls.seen) == 1


def test_task_hook_sees_the_task_runs_id_in_the_store(records: Records) -> None:
    calls = Calls()

    @task(on_completion=[calls.hook("done")])
    def good() -> int:
        return 1

    @flow
    def pipeline() -> object:
        good()
        return flow_run.id

    run_id = pipeline()
    (tr,) = records.task_runs(run_id)
    assert calls.seen[0][2] == tr.id


def test_with_options_replaces_hooks() -> None:
    calls = Calls()

    @flow(on_completion=[calls.hook("original")])
    def pipeline() -> None:
        pass

    pipeline.with_options(on_completion=[calls.hook("replacement")])()
    assert [label for label, *_ in calls.seen] == ["replacement"]


def test_hooks_can_log_to_their_run_like_in_prefect(records: Records) -> None:
    from headwater import get_run_logger

    def log_flow_outcome(flw: Any, run: Any, state: Any) -> None:
        get_run_logger().info("flow hook saw %s", state.name)

    def log_task_outcome(tsk: Any, run: Any, state: Any) -> None:
        get_run_logger().info("task hook saw %s", state.name)

    @task(on_completion=[log_task_outcome])
    def step() -> None:
        pass

    @flow(on_completion=[log_flow_outcome])
    def pipeline() -> object:
        step()
        return flow_run.id

    run_id = pipeline()
    lines = {log.message: log for log in records.logs(run_id)}
    assert lines["flow hook saw Completed"].task_run_id is None
    (tr,) = records.task_runs(run_id)
    assert lines["task hook saw Completed"].task_run_id == tr.id  # logged as the task run's line
