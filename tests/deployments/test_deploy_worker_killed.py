"""A worker killed mid-run (SIGKILL: no clean-up of any kind) never leaves its run RUNNING forever: when the
run's process dies with it, the server's crash detection marks the run CRASHED once its heartbeats stop;
when the run's process lives on (it is in a session of its own), it finishes the run itself.

The server here looks every 0.3 s for RUNNING runs silent for over 2 s; flow processes beat every 0.5 s.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import deployed_flows
import pytest
from p3_support import (
    Processes,
    deployment_name,
    final_run,
    kill_quietly,
    process_alive,
    run_in_state,
    standby_processes,
    unique,
    wait_for,
    written_pid,
)

from headwater.core.states import StateType
from headwater.deployments import run_deployment
from headwater.testing.utilities import Harness

pytestmark = pytest.mark.slow

HEARTBEAT = {"HEADWATER_HEARTBEAT_INTERVAL_SECONDS": "0.5"}


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    return {"HEADWATER_CRASH_DETECTION_GRACE_SECONDS": "2", "HEADWATER_CRASH_DETECTION_LOOP_SECONDS": "0.3"}


@pytest.fixture(scope="module")
def harness_settings() -> dict[str, Any]:
    return {"heartbeat_interval_seconds": 0.5}


def start_sleeper(pool: str, marker: Path, seconds: float) -> Any:
    name = unique("sleeper")
    deployed_flows.sleeper.deploy(name, work_pool_name=pool)
    full_name = deployment_name(deployed_flows.sleeper, name)
    return run_deployment(full_name, {"marker": str(marker), "seconds": seconds}, timeout=0)


def test_killing_the_worker_and_its_run_process_leaves_the_run_crashed(
    server: Harness, processes: Processes, tmp_path: Path
) -> None:
    pool = unique("pool")
    worker = processes.worker(pool, env=HEARTBEAT)
    marker = tmp_path / "run.pid"
    run = start_sleeper(pool, marker, seconds=60)
    pid = written_pid(marker)
    try:
        run_in_state(run.id, "RUNNING")
        assert f"started in process {pid}" in worker.output()

        assert standby_processes(str(server.api_url)), "the worker keeps a warm process for its next run"
        worker.kill()
        os.kill(pid, signal.SIGKILL)

        crashed = final_run(run.id, timeout=30)
        assert crashed.state_type is StateType.CRASHED
        assert crashed.state is not None and "No heartbeat for over 2 seconds" in (crashed.state.message or "")
        wait_for(lambda: not standby_processes(str(server.api_url)), what="the warm process to end with its worker")
    finally:
        kill_quietly(pid)


def test_killing_only_the_worker_lets_its_run_finish_by_itself(
    server: Harness, processes: Processes, tmp_path: Path
) -> None:
    pool = unique("pool")
    worker = processes.worker(pool, env=HEARTBEAT)
    marker = tmp_path / "run.pid"
    run = start_sleeper(pool, marker, seconds=4)
    pid = written_pid(marker)
    try:
        run_in_state(run.id, "RUNNING")

        worker.kill()

        assert process_alive(pid), "the run's process is in a session of its own: it outlives its worker"
        finished = final_run(run.id, timeout=30)
        assert finished.state_type is StateType.COMPLETED, finished.state
        wait_for(lambda: not process_alive(pid), what="the run's process to exit", timeout=15)
    finally:
        kill_quietly(pid)
