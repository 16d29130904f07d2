"""Schedules producing runs: the server's scheduler creates the runs of a deployment's schedule ahead of
time, a worker runs them as they come due, and pausing the deployment stops them (the server here
schedules every 0.5 s: `HEADWATER_SCHEDULER_LOOP_SECONDS`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import deployed_flows
import pytest
from p3_support import Processes, cli, deployment_name, read_runs, unique, wait_for

from headwater.core.states import StateType
from headwater.deployments import Cron, Deployment
from headwater.schemas.objects import FlowRun
from headwater.testing.utilities import Harness

pytestmark = pytest.mark.slow


def runs_of(deployment_id: UUID) -> list[FlowRun]:
    return read_runs(deployment_id=[deployment_id], limit=200)


def test_an_interval_schedule_makes_runs_a_worker_completes_and_pausing_stops_them(
    server: Harness, processes: Processes, tmp_path: Path
) -> None:
    pool, name = unique("scheduled-pool"), unique("every-2s")
    processes.worker(pool)
    folder = tmp_path / "ticks"
    folder.mkdir()
    full_name = deployment_name(deployed_flows.tick, name)

    deployment_id = deployed_flows.tick.deploy(
        name, work_pool_name=pool, interval=2, parameters={"folder": str(folder)}
    )

    def completed() -> list[FlowRun] | None:
        done = [run for run in runs_of(deployment_id) if run.state_type is StateType.COMPLETED]
        return done if len(done) >= 2 else None

    done = wait_for(completed, what="two scheduled runs to complete", timeout=30)
    assert all(run.auto_scheduled for run in done)
    assert len(list(folder.iterdir())) >= 2, "each run ran the flow"
    inspected = cli("deployment", "inspect", full_name)
    assert "every 2s" in inspected.stdout, inspected.stdout + inspected.stderr

    paused = cli("deployment", "pause", full_name)

    assert paused.returncode == 0, paused.stdout + paused.stderr
    assert f"Paused deployment {full_name!r}" in paused.stdout
    known = {run.id for run in runs_of(deployment_id)}
    assert not [run for run in runs_of(deployment_id) if run.state_type is StateType.SCHEDULED], (
        "pausing deletes the runs its schedule made that have not started"
    )
    deadline = time.monotonic() + 3.0  # six scheduler rounds, a run due every 2 s: none may be made
    while time.monotonic() < deadline:
        new = [run for run in runs_of(deployment_id) if run.id not in known]
        assert not new, f"a paused deployment got new runs: {new}"
        time.sleep(0.1)
    assert "paused" in cli("deployment", "inspect", full_name).stdout

    resumed = cli("deployment", "resume", full_name)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr

    def completed_after_resume() -> list[FlowRun] | None:
        done = [r for r in runs_of(deployment_id) if r.id not in known and r.state_type is StateType.COMPLETED]
        return done or None

    wait_for(completed_after_resume, what="a run after resuming", timeout=20)


def test_a_cron_schedule_makes_its_next_run_ahead_of_time_and_it_waits(server: Harness) -> None:
    name = unique("yearly")
    deployment = Deployment.build_from_flow(
        deployed_flows.tick,
        name,
        work_pool_name=unique("cron-pool"),
        parameters={"folder": "/nonexistent"},
        schedules=[Cron("0 0 1 1 *", timezone="Europe/Paris")],
    )
    deployment_id = deployment.apply()

    (upcoming,) = wait_for(lambda: runs_of(deployment_id), what="the scheduler to make the next run", timeout=15)

    assert upcoming.state_type is StateType.SCHEDULED and upcoming.auto_scheduled
    assert upcoming.expected_start_time is not None and upcoming.expected_start_time > datetime.now(UTC)
    assert upcoming.expected_start_time.astimezone(UTC).hour in {22, 23}  # midnight in Paris
    inspected = cli("deployment", "inspect", deployment_name(deployed_flows.tick, name))
    assert "cron 0 0 1 1 *" in inspected.stdout, inspected.stdout + inspected.stderr
