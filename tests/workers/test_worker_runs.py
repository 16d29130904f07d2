"""A worker process runs deployment runs in processes of their own: a run completes, a process that dies
crashes its run with the reason, a run starts as soon as it is created, and a missing pool is created."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from worker_support import (
    WorkerProcess,
    create_run,
    deploy,
    final_run,
    process_alive,
    read_run,
    started_pid,
    wait_for,
)

from headwater._wiring import call
from headwater.core.states import StateType
from headwater.testing.utilities import Harness

pytestmark = pytest.mark.slow

StartWorker = Callable[..., WorkerProcess]


def test_a_run_completes_in_the_deployment_folder_with_its_output_shown(
    pool: str, start_worker: StartWorker, tmp_path: Path
) -> None:
    deployment = deploy(tmp_path / "project", "greet", pool=pool)
    worker = start_worker(pool)

    run = create_run(deployment, name="river")
    finished = final_run(run.id)

    assert finished.state_type is StateType.COMPLETED, finished.state
    history = call(lambda o: o.read_flow_run_states(run.id))
    assert [state.type for state in history] == [
        StateType.SCHEDULED,
        StateType.PENDING,
        StateType.RUNNING,
        StateType.COMPLETED,
    ]
    # The process ran in the deployment's folder; its output reached the worker's console, prefixed.
    worker.wait_for_output(f"{run.name} | hello river from {tmp_path / 'project'}")


def test_a_run_starts_as_soon_as_it_is_created(pool: str, start_worker: StartWorker, tmp_path: Path) -> None:
    deployment = deploy(tmp_path, "greet", pool=pool)
    start_worker(pool)
    # Once a first run has been claimed and has finished, the worker has long been waiting in its next
    # poll (10 s long): a run that started only with the poll after it would be seconds late.
    assert final_run(create_run(deployment).id).state_type is StateType.COMPLETED

    created = time.monotonic()
    run = create_run(deployment)
    wait_for(lambda: read_run(run.id).state_type is not StateType.SCHEDULED, what="the run to be claimed")

    assert time.monotonic() - created < 2.0
    assert final_run(run.id).state_type is StateType.COMPLETED


def test_a_process_that_exits_abruptly_crashes_its_run(pool: str, start_worker: StartWorker, tmp_path: Path) -> None:
    deployment = deploy(tmp_path, "exits", pool=pool)
    start_worker(pool)

    run = final_run(create_run(deployment, code=3).id)

    assert run.state_type is StateType.CRASHED
    assert run.state is not None and run.state.message is not None
    assert "exited with code 3" in run.state.message


def test_a_killed_process_crashes_its_run_saying_by_which_signal(
    pool: str, start_worker: StartWorker, tmp_path: Path
) -> None:
    deployment = deploy(tmp_path, "sleeper", pool=pool)
    start_worker(pool)
    marker = tmp_path / "pid"

    run = create_run(deployment, marker=str(marker))
    pid = started_pid(marker)
    os.kill(pid, signal.SIGKILL)
    finished = final_run(run.id)

    assert finished.state_type is StateType.CRASHED
    assert finished.state is not None and finished.state.message is not None
    assert "killed by signal 9 (SIGKILL)" in finished.state.message
    assert not process_alive(pid)


def test_a_missing_pool_is_created_as_a_process_pool_and_said_so(
    server: Harness, pool: str, start_worker: StartWorker
) -> None:
    worker = start_worker(pool, "--name", "the-worker")

    assert f"Work pool '{pool}' did not exist: created it as a 'process' pool" in worker.output()
    created = call(lambda o: o.read_work_pool(pool))
    assert created.type == "process"
    workers = call(lambda o: o.read_workers(pool))
    assert [w.name for w in workers] == ["the-worker"]


def test_a_pool_of_another_type_is_refused(pool: str, tmp_path: Path) -> None:
    from headwater.schemas.work_pools import WorkPoolCreate

    call(lambda o: o.create_work_pool(WorkPoolCreate(name=pool, type="docker")))
    worker = WorkerProcess(pool, tmp_path / "worker.log")
    with pytest.raises(AssertionError, match="exited with 1"):
        worker.start()
    assert f"Work pool '{pool}' is a 'docker' pool; a process worker serves 'process' pools." in worker.output()
