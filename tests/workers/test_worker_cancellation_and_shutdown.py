"""Cancelling a running run stops its process and ends it CANCELLED; a worker that shuts down leaves no
run RUNNING."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner
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

from headwater.cli import app
from headwater.core.states import StateType

pytestmark = pytest.mark.slow

StartWorker = Callable[..., WorkerProcess]


def test_cancelling_a_running_run_stops_its_process_and_ends_it_cancelled(
    pool: str, start_worker: StartWorker, tmp_path: Path
) -> None:
    deployment = deploy(tmp_path, "sleeper", pool=pool)
    worker = start_worker(pool)
    marker = tmp_path / "pid"
    run = create_run(deployment, marker=str(marker))
    pid = started_pid(marker)
    assert read_run(run.id).state_type is StateType.RUNNING

    result = CliRunner().invoke(app, ["flow-run", "cancel", str(run.id)])

    assert result.exit_code == 0, result.output
    assert f"Cancelling flow run '{run.name}'" in result.stdout
    finished = final_run(run.id)
    assert finished.state_type is StateType.CANCELLED
    wait_for(lambda: not process_alive(pid), what="the flow's process to end")
    worker.wait_for_output(f"Flow run '{run.name}' is Cancelling: stopping it.")


def test_a_worker_that_shuts_down_stops_its_runs_and_leaves_none_running(
    pool: str, start_worker: StartWorker, tmp_path: Path
) -> None:
    deployment = deploy(tmp_path, "sleeper", pool=pool)
    worker = start_worker(pool, shutdown_grace=0.5)
    markers = [tmp_path / "a", tmp_path / "b"]
    runs = [create_run(deployment, marker=str(marker)) for marker in markers]
    pids = [started_pid(marker) for marker in markers]

    worker.signal(signal.SIGTERM)

    assert worker.wait(timeout=60) == 0, worker.output()
    for run in runs:
        finished = read_run(run.id)  # final once the worker has exited, not eventually
        assert finished.state_type in (StateType.CRASHED, StateType.CANCELLED), finished.state
    for pid in pids:
        assert not process_alive(pid)
    assert "Waiting up to 0.5s for 2 running flow run(s) to finish." in worker.output()


def test_runs_that_finish_within_the_grace_period_complete(
    pool: str, start_worker: StartWorker, tmp_path: Path
) -> None:
    deployment = deploy(tmp_path, "sleeper", pool=pool)
    worker = start_worker(pool, shutdown_grace=60)
    marker = tmp_path / "pid"
    run = create_run(deployment, marker=str(marker), seconds=1.0)
    started_pid(marker)

    worker.signal(signal.SIGTERM)

    assert worker.wait(timeout=60) == 0, worker.output()
    assert read_run(run.id).state_type is StateType.COMPLETED


def test_cancelling_a_run_that_has_not_started_cancels_it_at_once(pool: str, tmp_path: Path) -> None:
    deployment = deploy(tmp_path, "greet", pool=pool)
    run = create_run(deployment)  # no worker: it stays SCHEDULED

    result = CliRunner().invoke(app, ["flow-run", "cancel", str(run.id), "-o", "json"])

    assert result.exit_code == 0, result.output
    assert read_run(run.id).state_type is StateType.CANCELLED
