"""Cancelling a deployment run reaches what it started: the deployment runs it waits for (their processes
stopped, on whichever worker) and the subflows it runs in its own process; all end CANCELLED."""

from __future__ import annotations

import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import deployed_flows
import pytest
from p3_support import (
    Processes,
    cli,
    deployment_name,
    final_run,
    kill_quietly,
    process_alive,
    read_runs,
    run_in_state,
    unique,
    wait_for,
    written_pid,
)

from headwater.core.states import StateType
from headwater.deployments import run_deployment
from headwater.testing.utilities import Harness

pytestmark = pytest.mark.slow


def test_cancelling_a_parent_deployment_run_cancels_the_child_it_waits_for(
    server: Harness, module_pool: str, tmp_path: Path
) -> None:
    child_name, parent_name = unique("child"), unique("parent")
    deployed_flows.sleeper.deploy(child_name, work_pool_name=module_pool)
    deployed_flows.calls_deployment.deploy(parent_name, work_pool_name=module_pool)
    child_marker, parent_marker = tmp_path / "child.pid", tmp_path / "parent.pid"
    parameters = {
        "child": deployment_name(deployed_flows.sleeper, child_name),
        "parameters": {"marker": str(child_marker), "seconds": 60},
        "marker": str(parent_marker),
    }
    parent = run_deployment(deployment_name(deployed_flows.calls_deployment, parent_name), parameters, timeout=0)
    parent_pid, child_pid = written_pid(parent_marker), written_pid(child_marker)
    try:
        (child,) = wait_for(lambda: read_runs(parent_flow_run_id=parent.id), what="the child run to be linked")
        run_in_state(child.id, "RUNNING")

        cancelled = cli("flow-run", "cancel", str(parent.id))

        assert cancelled.returncode == 0, cancelled.stdout + cancelled.stderr
        assert final_run(parent.id).state_type is StateType.CANCELLED
        assert final_run(child.id).state_type is StateType.CANCELLED
        wait_for(lambda: not process_alive(child_pid), what="the child's process to be stopped", timeout=20)
        wait_for(lambda: not process_alive(parent_pid), what="the parent's process to be stopped", timeout=20)
    finally:
        kill_quietly(child_pid)
        kill_quietly(parent_pid)


def test_a_subflow_of_a_cancelled_deployment_run_ends_cancelled_not_running(
    server: Harness, module_pool: str, tmp_path: Path
) -> None:
    name = unique("with-subflow")
    deployed_flows.with_subflow.deploy(name, work_pool_name=module_pool)
    marker = tmp_path / "subflow.pid"
    run = run_deployment(
        deployment_name(deployed_flows.with_subflow, name), {"marker": str(marker), "seconds": 60}, timeout=0
    )
    pid = written_pid(marker)
    try:
        (subflow,) = wait_for(lambda: read_runs(parent_flow_run_id=run.id), what="the subflow run to be recorded")
        run_in_state(subflow.id, "RUNNING")

        assert cli("flow-run", "cancel", str(run.id)).returncode == 0

        assert final_run(run.id).state_type is StateType.CANCELLED
        assert final_run(subflow.id).state_type is StateType.CANCELLED
        wait_for(lambda: not process_alive(pid), what="the run's process to be stopped", timeout=20)
    finally:
        kill_quietly(pid)


def test_a_caller_waiting_for_a_run_that_gets_cancelled_gets_it_back_cancelled(
    server: Harness, module_pool: str, tmp_path: Path
) -> None:
    name = unique("sleeper")
    deployed_flows.sleeper.deploy(name, work_pool_name=module_pool)
    marker = tmp_path / "sleeper.pid"
    returned: dict[str, Any] = {}

    def wait_for_it() -> None:
        run = run_deployment(deployment_name(deployed_flows.sleeper, name), {"marker": str(marker), "seconds": 60})
        returned["state"] = run.state.type

    caller = threading.Thread(target=wait_for_it, daemon=True)
    caller.start()
    pid = written_pid(marker)
    try:
        (run,) = read_runs(flow_name=["p3-sleeper"], deployment_id=[_deployment_id(name)])
        started = time.monotonic()

        assert cli("flow-run", "cancel", str(run.id)).returncode == 0

        caller.join(30)
        assert not caller.is_alive(), "run_deployment must return once the run is cancelled"
        assert returned["state"] is StateType.CANCELLED
        assert time.monotonic() - started < 30
    finally:
        kill_quietly(pid)


LOCAL_PARENT = textwrap.dedent(
    '''
    """A flow run here, not by a worker: it runs a deployment and waits for it."""
    import sys

    from headwater import flow
    from headwater.deployments import run_deployment


    @flow(name="p3-local-parent")
    def local_parent(child: str, marker: str) -> str:
        run = run_deployment(child, parameters={"marker": marker, "seconds": 60})
        print(f"child ended {run.state.type.value}", flush=True)
        return run.state.type.value


    if __name__ == "__main__":
        local_parent(sys.argv[1], sys.argv[2])
    '''
)


def cancel_local_parent(module_pool: str, processes: Processes, tmp_path: Path) -> tuple[Any, Any, Any]:
    """Start a local flow (in a program of its own) waiting for a sleeper deployment run, cancel the local
    flow's run, and return (the program, the parent run, the child run) once the program ended."""
    name = unique("sleeper")
    deployed_flows.sleeper.deploy(name, work_pool_name=module_pool)
    script, marker = tmp_path / "local_parent.py", tmp_path / "child.pid"
    script.write_text(LOCAL_PARENT)
    program = processes.python(script, deployment_name(deployed_flows.sleeper, name), marker, cwd=tmp_path)
    pid = written_pid(marker)
    try:
        (parent,) = wait_for(
            lambda: [r for r in read_runs(flow_name=["p3-local-parent"]) if r.parameters.get("marker") == str(marker)],
            what="the local parent run to be recorded",
        )
        (child,) = wait_for(lambda: read_runs(parent_flow_run_id=parent.id), what="the child run to be linked")
        run_in_state(child.id, "RUNNING")

        assert cli("flow-run", "cancel", str(parent.id)).returncode == 0

        assert final_run(child.id).state_type is StateType.CANCELLED
        wait_for(lambda: not process_alive(pid), what="the child's process to be stopped", timeout=20)
        program.wait(30)
        return program, final_run(parent.id), child
    finally:
        kill_quietly(pid)


def test_cancelling_a_local_flow_cancels_the_deployment_run_it_waits_for(
    server: Harness, module_pool: str, processes: Processes, tmp_path: Path
) -> None:
    program, _, child = cancel_local_parent(module_pool, processes, tmp_path)

    assert final_run(child.id).state_type is StateType.CANCELLED
    # The local flow learns it was cancelled and stops waiting: its call raises in the user's program.
    assert "CancelledRun: The flow run was cancelled." in program.output()


def test_a_cancelled_local_flow_ends_cancelled(
    server: Harness, module_pool: str, processes: Processes, tmp_path: Path
) -> None:
    program, parent, _ = cancel_local_parent(module_pool, processes, tmp_path)

    assert parent.state_type is StateType.CANCELLED, parent.state
    assert program.wait(30) != 0  # the cancelled flow's call raised


def _deployment_id(name: str) -> Any:
    from headwater._wiring import call

    full_name = deployment_name(deployed_flows.sleeper, name)
    return call(lambda o: o.read_deployment_by_name(full_name)).id
