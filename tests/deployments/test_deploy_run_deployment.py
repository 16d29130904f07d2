"""`run_deployment` from a flow in this process, against a real server and a real worker: waiting and not
waiting, reading the child's result, a child that crashes, and the mistakes a caller can make."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from uuid import UUID

import deployed_flows
import pytest
from p3_support import cli, deployment_name, final_run, read_run, read_runs, unique

from headwater import flow
from headwater.core.states import StateType
from headwater.deployments import DeploymentFlowRun, run_deployment
from headwater.exceptions import InvalidInput, ObjectNotFound
from headwater.runtime import flow_run as current_run
from headwater.testing.utilities import Harness

pytestmark = pytest.mark.slow


@flow(name="p3-caller")
def caller(name: str, parameters: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    """Runs the deployment and reports what `run_deployment` returned (as plain values)."""
    run = run_deployment(name, parameters=parameters, timeout=timeout)
    result = run.state.result() if run.state.type is StateType.COMPLETED else None
    return {
        "caller_id": str(current_run.id),
        "id": str(run.id),
        "state": run.state.type.value,
        "message": run.state.message,
        "result": result,
    }


@flow(name="p3-caller-of-two")
def caller_of_two(name: str) -> dict[str, Any]:
    """Waits for one run, then starts another without waiting."""
    waited = run_deployment(name, parameters={"x": 41})
    started = run_deployment(name, parameters={"x": 1, "y": 2}, timeout=0)
    return {
        "caller_id": str(current_run.id),
        "waited": (str(waited.id), waited.state.type.value, waited.state.result()),
        "started": (str(started.id), started.state.type.value),
    }


def test_waiting_and_not_waiting_from_a_flow_with_the_childs_result(server: Harness, module_pool: str) -> None:
    name = unique("add")
    deployed_flows.add.deploy(name, work_pool_name=module_pool)

    report = caller_of_two(deployment_name(deployed_flows.add, name))

    waited_id, waited_state, waited_result = report["waited"]
    assert (waited_state, waited_result) == ("COMPLETED", 42)
    started_id, started_state = report["started"]
    assert started_state in {"SCHEDULED", "PENDING", "RUNNING"}, "timeout=0 must not wait for the run to end"
    started = final_run(UUID(started_id))
    assert started.state_type is StateType.COMPLETED
    assert DeploymentFlowRun(started).state.result() == 3
    children = read_runs(parent_flow_run_id=UUID(report["caller_id"]))
    assert {str(child.id) for child in children} == {waited_id, started_id}
    assert all(child.deployment_id is not None for child in children)


def test_a_timeout_that_expires_returns_the_run_still_in_progress(
    server: Harness, module_pool: str, tmp_path: Path
) -> None:
    name = unique("sleeper")
    deployed_flows.sleeper.deploy(name, work_pool_name=module_pool)
    full_name = deployment_name(deployed_flows.sleeper, name)
    marker = str(tmp_path / "sleeper.pid")

    started = time.monotonic()
    run = run_deployment(full_name, parameters={"marker": marker, "seconds": 30}, timeout=1.5)
    elapsed = time.monotonic() - started

    assert 1.5 <= elapsed < 10
    assert run.state.type in {StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING}
    assert cli("flow-run", "cancel", str(run.id)).returncode == 0
    assert final_run(run.id).state_type is StateType.CANCELLED


def test_a_child_that_crashes_is_returned_crashed_naming_the_exit_code(server: Harness, module_pool: str) -> None:
    name = unique("exit")
    deployed_flows.exit_with.deploy(name, work_pool_name=module_pool)

    started = time.monotonic()
    report = caller(deployment_name(deployed_flows.exit_with, name), {"code": 3}, None)

    assert time.monotonic() - started < 45, "the caller must not hang on a crashed child"
    assert report["state"] == "CRASHED"
    assert "exited with code 3" in report["message"]
    stored = read_run(UUID(report["id"]))
    assert stored.state_type is StateType.CRASHED
    assert stored.state is not None and "exited with code 3" in (stored.state.message or "")
    caller_run = read_run(UUID(report["caller_id"]))
    assert caller_run.state_type is StateType.COMPLETED, "the caller decides what a crashed child means"


def test_a_missing_deployment_is_named_in_the_error(server: Harness) -> None:
    with pytest.raises(ObjectNotFound, match="no-such/deployment"):
        run_deployment("no-such/deployment")
    with pytest.raises(ValueError, match="flow-name/deployment-name"):
        run_deployment("no-slash-here")


def test_parameters_that_fail_the_schema_are_refused_naming_the_parameter(server: Harness, module_pool: str) -> None:
    name = unique("add")
    deployed_flows.add.deploy(name, work_pool_name=module_pool)
    full_name = deployment_name(deployed_flows.add, name)
    before = len(read_runs(flow_name=["p3-add"], limit=200))

    with pytest.raises(InvalidInput, match="parameter 'x' must be an integer; got 'forty-one'"):
        run_deployment(full_name, parameters={"x": "forty-one"}, timeout=0)
    with pytest.raises(InvalidInput, match="parameter 'x' is required"):
        run_deployment(full_name, parameters={"y": 2}, timeout=0)

    assert len(read_runs(flow_name=["p3-add"], limit=200)) == before, "no run is created for bad parameters"


def test_a_run_on_a_pool_without_a_worker_waits_and_inspect_says_why(server: Harness) -> None:
    pool = unique("lonely-pool")
    name = unique("add")
    deployed_flows.add.deploy(name, work_pool_name=pool)
    full_name = deployment_name(deployed_flows.add, name)

    created = cli("deployment", "run", full_name, "--param", "x=1")
    run = run_deployment(full_name, parameters={"x": 2}, timeout=1)

    assert created.returncode == 0, created.stderr
    assert f"No worker has polled work pool {pool!r}" in created.stderr
    assert run.state.type is StateType.SCHEDULED
    inspected = cli("flow-run", "inspect", str(run.id))
    assert inspected.returncode == 0, inspected.stderr
    text = " ".join(inspected.stdout.split())
    assert f"No worker has polled work pool {pool!r}" in text
    assert f"headwater worker start --pool {pool}" in text

    deleted = cli("deployment", "delete", full_name, "--yes")

    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert f"Deleted deployment {full_name!r}" in deleted.stdout
    with pytest.raises(ObjectNotFound):
        read_run(run.id)  # a run that never started goes with its deployment
    with pytest.raises(ObjectNotFound, match=full_name):
        run_deployment(full_name, parameters={"x": 3}, timeout=0)


def test_a_failed_run_retried_from_the_command_line_runs_again_on_the_worker(
    server: Harness, module_pool: str, tmp_path: Path
) -> None:
    name = unique("fails-once")
    deployed_flows.fails_once.deploy(name, work_pool_name=module_pool)
    run = run_deployment(deployment_name(deployed_flows.fails_once, name), {"marker": str(tmp_path / "marker")})
    assert run.state.type is StateType.FAILED
    assert "first attempt fails" in (run.state.message or "")

    retried = cli("flow-run", "retry", str(run.id))

    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert "scheduled again" in retried.stdout
    again = final_run(run.id)
    assert again.state_type is StateType.COMPLETED, again.state
    assert DeploymentFlowRun(again).state.result() == "second attempt"
