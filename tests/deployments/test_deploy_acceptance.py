"""The users' acceptance program for pattern 3, flow of deployments (`/work/shared/acceptance/deployments.py`),
run unmodified as its header says: `fake_github.py` on a free port, a server, a worker on
`default-agent-pool` started with GITHUB_API_URL set and the acceptance folder on PYTHONPATH, then
`python deployments.py build` and `python deployments.py run` in the acceptance folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest
from p3_support import ACCEPTANCE, UUID_PATTERN, Processes, cli, final_run, read_runs, wait_for

from headwater._wiring import call
from headwater.core.states import StateType
from headwater.deployments import DeploymentFlowRun
from headwater.testing.utilities import Harness, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not ACCEPTANCE.is_dir(), reason=f"the acceptance programs are not at {ACCEPTANCE}"),
]

DEPLOYMENT = "calculate-average-commits/calculate-average-commits-deployment"
POOL = "default-agent-pool"


@pytest.fixture(scope="module")
def github_api() -> Iterator[str]:
    """The base URL of `fake_github.py`, on a free port."""
    port = free_port()
    with subprocess.Popen(
        [sys.executable, str(ACCEPTANCE / "fake_github.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as fake:
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            if fake.poll() is not None:
                raise AssertionError(f"fake_github.py exited with {fake.returncode}")
            try:
                return httpx.get(f"{url}/repos/PrefectHQ/prefect", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        try:
            wait_for(answers, what="fake_github.py to answer", timeout=15)
            yield url
        finally:
            fake.terminate()
            fake.wait(10)


def user_environment(github_api: str) -> dict[str, str]:
    """What the header asks for, and no bytecode written into the (read-only) acceptance folder."""
    return {"GITHUB_API_URL": github_api, "PYTHONPATH": str(ACCEPTANCE), "PYTHONDONTWRITEBYTECODE": "1"}


def user_program(*args: str, github_api: str) -> subprocess.CompletedProcess[str]:
    """`python deployments.py <args>` in the acceptance folder, as a user runs it (with this test's server
    and HEADWATER_HOME, so it reads the results the worker's runs persisted)."""
    env = {**os.environ, **user_environment(github_api), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "deployments.py", *args],
        cwd=ACCEPTANCE,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
        timeout=90,
    )


def test_build_then_run_waits_for_one_run_and_starts_another_both_children_of_the_caller(
    server: Harness, processes: Processes, github_api: str, tmp_path: Path
) -> None:
    built = user_program("build", github_api=github_api)

    assert built.returncode == 0, built.stdout + built.stderr
    build_output = built.stdout + built.stderr
    assert f"Work pool {POOL!r} did not exist: created it as a 'process' pool" in build_output
    assert f"Created deployment {DEPLOYMENT!r}" in build_output
    deployment = call(lambda o: o.read_deployment_by_name(DEPLOYMENT))
    assert deployment.version == "1"
    assert (deployment.work_pool_name, deployment.work_queue_name) == (POOL, "default")
    assert "contributors_url" in deployment.parameter_openapi_schema.get("required", [])
    pool = call(lambda o: o.read_work_pool(POOL))
    assert pool.type == "process"
    listed = cli("deployment", "ls")
    assert listed.returncode == 0 and DEPLOYMENT in listed.stdout, listed.stdout + listed.stderr

    worker_cwd = tmp_path / "elsewhere"  # the worker runs each run in the deployment's folder, wherever it is
    worker_cwd.mkdir()
    worker = processes.worker(POOL, env=user_environment(github_api), cwd=worker_cwd)
    inspected = cli("work-pool", "inspect", POOL)
    assert inspected.returncode == 0 and "ONLINE" in inspected.stdout, inspected.stdout + inspected.stderr
    ran = user_program("run", github_api=github_api)

    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output + "\n--- worker ---\n" + worker.output()
    assert "waited: COMPLETED 100.0" in output
    started = re.search(rf"started: ({UUID_PATTERN}) in state (\w+)", output)
    assert started is not None, output
    assert started.group(2) in {"SCHEDULED", "PENDING", "RUNNING"}, "the second run is started without waiting"
    (caller,) = read_runs(flow_name=["orchestrate"])
    assert caller.state_type is StateType.COMPLETED
    children = read_runs(parent_flow_run_id=caller.id)
    started_id = UUID(started.group(1))
    assert started_id in {child.id for child in children}
    assert len(children) == 2
    assert all(child.deployment_id == deployment.id for child in children)
    for child in children:
        finished = final_run(child.id)
        assert finished.state_type is StateType.COMPLETED, finished.state
        assert DeploymentFlowRun(finished).state.result() == 100.0
    assert "started in process" in worker.output() and str(ACCEPTANCE) in worker.output()

    rebuilt = user_program("build", github_api=github_api)  # building again updates it in place
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert f"Updated deployment {DEPLOYMENT!r}" in rebuilt.stdout + rebuilt.stderr
    assert "did not exist" not in rebuilt.stdout + rebuilt.stderr
    assert call(lambda o: o.read_deployment_by_name(DEPLOYMENT)).id == deployment.id
