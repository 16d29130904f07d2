"""Task runners: `ThreadPoolTaskRunner` (the default) runs submitted tasks in threads;
`ProcessPoolTaskRunner` in worker processes, which record their task runs to the same store."""

from __future__ import annotations

import os
import threading

import pytest
import sdk_process_tasks as pt
from sdk_support import Records

from headwater import flow, task
from headwater.core.states import StateType
from headwater.runtime import flow_run
from headwater.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

BLOCK_TIMEOUT = 20.0


def test_default_runner_is_a_thread_pool_running_tasks_concurrently() -> None:
    both_running = threading.Barrier(2, timeout=BLOCK_TIMEOUT)  # passes only if both run at once

    @task
    def meet(i: int) -> str:
        both_running.wait()
        return threading.current_thread().name

    @flow
    def pipeline() -> list[str]:
        return meet.map([1, 2]).result()

    assert isinstance(pipeline.task_runner, ThreadPoolTaskRunner)
    names = pipeline()
    assert len(set(names)) == 2
    assert threading.current_thread().name not in names


def test_thread_pool_max_workers_limits_concurrency() -> None:
    lock = threading.Lock()
    running = [0]
    most = [0]

    @task
    def work(i: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        for _ in range(20):  # give other workers every chance to overlap
            threading.Event().wait(0.001)
        with lock:
            running[0] -= 1
        return i

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def serial() -> list[int]:
        return work.map(range(6)).result()

    assert serial() == list(range(6))
    assert most == [1]


def test_thread_pool_refuses_less_than_one_worker() -> None:
    with pytest.raises(ValueError, match="max_workers"):
        ThreadPoolTaskRunner(max_workers=0)


def test_each_flow_run_gets_its_own_runner() -> None:
    runners: list[TaskRunner] = []

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def pipeline() -> None:
        from headwater.context import get_run_context

        ctx = get_run_context()
        runners.append(ctx.task_runner)  # type: ignore[union-attr]

    pipeline()
    pipeline()
    assert runners[0] is not runners[1]


@pytest.mark.slow
def test_process_pool_runs_tasks_in_other_processes_and_records_them(records: Records) -> None:
    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def pipeline() -> tuple[list[int], list[int], object]:
        squares = pt.square.map([1, 2, 3])
        pids = [pt.whoami.submit() for _ in range(2)]
        return [f.result() for f in squares], [f.result() for f in pids], flow_run.id

    squares, pids, run_id = pipeline()
    assert squares == [1, 4, 9]
    assert os.getpid() not in pids
    runs = records.task_runs(run_id)
    assert sorted(r.name for r in runs) == ["square-0", "square-1", "square-2", "whoami-0", "whoami-1"]
    assert all(r.state_type is StateType.COMPLETED for r in runs)
    assert records.flow_run(run_id).state_type is StateType.COMPLETED


@pytest.mark.slow
def test_process_pool_task_sees_its_flow_run_and_its_logs_are_recorded(records: Records) -> None:
    @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
    def pipeline() -> tuple[object, dict[str, object], object]:
        facts = pt.runtime_facts.submit().result()
        logged = pt.log_from_worker.submit("hello from a worker ✓")
        logged.wait()
        return flow_run.id, facts, logged.task_run_id

    run_id, facts, log_task_run_id = pipeline()
    assert facts["flow_run_id"] == run_id
    assert facts["name"] == "runtime_facts-0"
    assert records.task_run(facts["task_run_id"]).flow_run_id == run_id  # type: ignore[arg-type]
    (line,) = [log for log in records.logs(run_id) if log.message == "hello from a worker ✓"]
    assert line.task_run_id == log_task_run_id


@pytest.mark.slow
def test_process_pool_failure_reraises_and_downstream_is_not_ready(records: Records) -> None:
    @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
    def pipeline() -> tuple[str, str]:
        failed = pt.fail_in_worker.submit("bad in worker")
        with pytest.raises(ValueError, match="bad in worker"):
            failed.result()
        downstream = pt.square.submit(failed)
        return failed.state.name, downstream.wait_for_state().name

    assert pipeline() == ("Failed", "NotReady")


@pytest.mark.slow
def test_process_pool_resolves_futures_and_retries(tmp_path: object, records: Records) -> None:
    marker = os.path.join(str(tmp_path), "attempted")

    @flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
    def pipeline() -> tuple[int, int]:
        squares = pt.square.map([1, 2, 3])
        return pt.total.submit(squares).result(), pt.fail_first_attempt.submit(marker).result()

    assert pipeline() == (14, 2)
    run = records.only_flow_run(flow_name=["pipeline"])
    retried = next(r for r in records.task_runs(run.id) if r.name.startswith("fail_first_attempt"))
    assert retried.run_count == 2 and retried.state_type is StateType.COMPLETED


def test_direct_task_calls_in_a_process_pool_flow_run_in_this_process() -> None:
    @flow(task_runner=ProcessPoolTaskRunner(max_workers=1))
    def pipeline() -> int:
        return pt.whoami()

    assert pipeline() == os.getpid()
