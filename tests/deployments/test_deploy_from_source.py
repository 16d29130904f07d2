"""`Flow.from_source(<git repository>, "flows.py:fn").deploy(...)`: the deployment records the source, not
this machine's folder, and a worker elsewhere (another working directory, another HEADWATER_HOME) clones
the repository and runs the flow from it — and runs a newer commit once one is pushed."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
from p3_support import Processes, unique

from headwater import Flow, flow
from headwater._wiring import call
from headwater.core.states import StateType
from headwater.deployments import run_deployment
from headwater.testing.utilities import Harness

pytestmark = pytest.mark.slow

FLOWS = textwrap.dedent(
    '''
    import os
    from pathlib import Path

    from headwater import flow


    @flow(name="p3-from-git")
    def from_git(x: int, out: str) -> int:
        Path(out).write_text(f"VERSION {x} {os.getcwd()} {Path(__file__).resolve()}")
        return x
    '''
)


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=60,
    )


def commit(repo: Path, version: str) -> None:
    (repo / "flows.py").write_text(FLOWS.replace("VERSION", version))
    git(repo, "add", "flows.py")
    git(repo, "commit", "-q", "-m", version)


def test_a_flow_deployed_from_a_git_repository_is_cloned_and_run_by_a_worker(
    server: Harness, processes: Processes, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    commit(repo, "v1")
    pool, name = unique("git-pool"), unique("from-git")
    worker_home, worker_cwd = tmp_path / "worker-home", tmp_path / "worker-cwd"
    worker_cwd.mkdir()
    processes.worker(pool, env={"HEADWATER_HOME": str(worker_home)}, cwd=worker_cwd)

    loaded = Flow.from_source(str(repo), "flows.py:from_git")
    deployment_id = loaded.deploy(name, work_pool_name=pool)

    assert flow.from_source(str(repo), "flows.py:from_git").name == loaded.name  # type: ignore[attr-defined]
    deployment = call(lambda o: o.read_deployment(deployment_id))
    assert (deployment.source, deployment.entrypoint, deployment.path) == (str(repo), "flows.py:from_git", None)
    out = tmp_path / "out.txt"
    run = run_deployment(f"p3-from-git/{name}", {"x": 1, "out": str(out)}, timeout=60)
    assert run.state.type is StateType.COMPLETED, run.state
    version, x, cwd, file = out.read_text().split(" ")
    assert (version, x, cwd) == ("v1", "1", str(worker_cwd))
    assert Path(file).is_relative_to(worker_home / "sources"), "the worker ran its own clone of the repository"

    commit(repo, "v2")
    run = run_deployment(f"p3-from-git/{name}", {"x": 2, "out": str(out)}, timeout=60)

    assert run.state.type is StateType.COMPLETED, run.state
    assert out.read_text().split(" ")[:2] == ["v2", "2"], "the worker fetched the new commit"
