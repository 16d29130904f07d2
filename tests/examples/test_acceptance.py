"""The users' acceptance programs (`/work/shared/acceptance`) for the monoflow and flow-of-subflows
patterns, run unmodified against `fake_github.py` on a free local port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ACCEPTANCE = Path(__file__).resolve().parents[2].parent / "shared" / "acceptance"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not ACCEPTANCE.is_dir(), reason=f"the acceptance programs are not at {ACCEPTANCE}"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _answers(url: str, server: subprocess.Popen[bytes], timeout: float = 15.0) -> bool:
    """Poll until the fake API answers (True) or its process has exited (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{url}/repos/PrefectHQ/prefect", timeout=1.0).status_code == 200:
                return True
        except httpx.TransportError:
            time.sleep(0.02)  # not listening yet: poll again
    return False


@pytest.fixture(scope="module")
def github_api() -> Iterator[str]:
    """The base URL of `fake_github.py`, started on a free port (retried if another process took it)."""
    for _ in range(3):
        port = _free_port()
        with subprocess.Popen(
            [sys.executable, str(ACCEPTANCE / "fake_github.py"), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as server:
            url = f"http://127.0.0.1:{port}"
            try:
                if _answers(url, server):
                    yield url
                    return
            finally:
                server.terminate()
                server.wait(timeout=10)
    pytest.fail("fake_github.py did not start answering")


@pytest.fixture
def run_acceptance(run_program, github_api):
    def run(program: str, *args: str) -> subprocess.CompletedProcess[str]:
        return run_program(ACCEPTANCE / program, *args, env={"GITHUB_API_URL": github_api})

    return run


def test_monoflow_logs_the_statistics_with_emoji_intact(run_acceptance, store) -> None:
    result = run_acceptance("monoflow.py")

    assert result.returncode == 0, result.stderr
    (run,) = store.flow_runs("get-repo-info")
    assert run["state_type"] == "COMPLETED"
    lines = ["PrefectHQ/prefect repository statistics 🤓:", "Stars 🌠 : 17342", "Forks 🍴 : 1645"]
    messages = store.log_messages(run["id"])
    assert all(line in messages for line in lines)
    assert all(line in result.stderr for line in lines)  # and the console showed them


def test_subflows_without_its_argument_fails_naming_the_parameter(run_acceptance, store) -> None:
    result = run_acceptance("subflows.py")

    assert result.returncode != 0
    # acceptance/README.md: "a clear message that names the parameter, not a traceback from deep
    # inside the engine".
    last_line = result.stderr.strip().splitlines()[-1]
    assert "contributors_url" in last_line
    assert "headwater/engine" not in result.stderr
    (run,) = store.flow_runs("calculate-average-commits")
    assert run["state_type"] == "FAILED"


def test_subflows_parent_records_the_child_under_it(run_acceptance, store) -> None:
    result = run_acceptance("subflows.py", "parent")

    assert result.returncode == 0, result.stderr
    (parent,) = store.flow_runs("get-repo-info")
    (child,) = store.flow_runs("calculate-average-commits")
    assert parent["state_type"] == child["state_type"] == "COMPLETED"
    assert child["parent_flow_run_id"] == parent["id"]
    # log_prints=True: the printed lines are the parent run's log lines.
    assert "Average commits per contributor 💌 : 100.00" in store.log_messages(parent["id"])
