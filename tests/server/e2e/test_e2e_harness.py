"""`headwater_test_harness(server=True)` and the `headwater_server_harness` fixtures: a real server over a
throw-away store, used by this process and the processes it starts, stopped and removed at the end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from e2e_support import PROGRAMS, Api, program_environment

from headwater import flow, get_run_logger, task
from headwater.runtime import flow_run
from headwater.settings import get_settings
from headwater.testing.utilities import Harness, ServerStartError, headwater_test_harness


@task
def double(x: int) -> int:
    get_run_logger().info("doubling %d", x)
    return 2 * x


@flow(name="in-process")
def in_process() -> object:
    assert sum(double(i) for i in range(3)) == 6
    return flow_run.id


def test_the_fixture_records_this_process_and_its_children_through_the_server(
    headwater_server_harness: Harness,
) -> None:
    harness = headwater_server_harness
    assert harness.api_url is not None and harness.server is not None
    assert harness.server_process is not None and harness.server_process.poll() is None
    assert get_settings().api_url == os.environ["HEADWATER_API_URL"] == harness.api_url
    assert httpx.get(f"{harness.api_url}/health").json()["database"] == "sqlite"
    assert harness.database_url.startswith("sqlite") and str(harness.home) in harness.database_url

    run_id = str(in_process())
    child = subprocess.run(
        [sys.executable, str(PROGRAMS), "tiny"], capture_output=True, text=True, timeout=60, env=dict(os.environ)
    )
    assert child.returncode == 0, child.stderr

    reader = Api(harness.api_url)
    try:
        runs = {r["flow_name"]: r for r in reader.flow_runs()}
        assert set(runs) == {"in-process", "tiny"}
        assert runs["in-process"]["id"] == run_id and runs["in-process"]["state_type"] == "COMPLETED"
        assert [m for m in reader.messages(run_id) if m.startswith("doubling")] == [f"doubling {i}" for i in range(3)]
    finally:
        reader.close()
    assert (harness.home / "headwater.db").is_file()  # the server's store is in the harness's home


def test_the_server_is_stopped_and_everything_restored_at_the_end() -> None:
    before = {k: os.environ.get(k) for k in ("HEADWATER_HOME", "HEADWATER_API_URL", "HEADWATER_DATABASE_URL")}
    with headwater_test_harness(server=True, record_flush_interval_seconds=0.01) as harness:
        assert get_settings().record_flush_interval_seconds == 0.01
        in_process()
        server = harness.server
        assert server is not None
        process = harness.server_process
        assert process is not None
    assert process.poll() is not None  # stopped
    assert harness.server_process is None
    assert not harness.home.exists()
    assert {k: os.environ.get(k) for k in before} == before
    assert get_settings().api_url is None
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{harness.api_url}/health", timeout=2)


def test_the_server_can_be_killed_and_restarted_on_the_same_url(headwater_server_harness: Harness) -> None:
    server = headwater_server_harness.server
    assert server is not None
    url = server.api_url
    server.kill()
    assert not server.running
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=2)
    server.start()
    assert server.api_url == url == headwater_server_harness.api_url
    run_id = str(in_process())
    assert httpx.get(f"{url}/flow_runs/{run_id}").json()["state_type"] == "COMPLETED"


def test_a_server_that_cannot_start_is_reported_with_its_output() -> None:
    before = os.environ.get("HEADWATER_API_URL"), os.environ.get("HEADWATER_HOME")
    with (
        pytest.raises(ServerStartError) as raised,
        headwater_test_harness(server=True, server_env={"HEADWATER_DATABASE_URL": "nosuchdriver://nowhere/db"}),
    ):
        pytest.fail("the block must not run")
    message = str(raised.value)
    assert "exited with status" in message and "nosuchdriver" in message, message
    assert (os.environ.get("HEADWATER_API_URL"), os.environ.get("HEADWATER_HOME")) == before


PLUGIN_TESTS = """
import httpx
from headwater import flow


@flow(name="plugin-flow")
def plugin_flow() -> int:
    return 1


def test_session_server(headwater_session_server_harness):
    assert httpx.get(headwater_session_server_harness.api_url + "/health").status_code == 200


def test_function_server(headwater_server_harness, headwater_session_server_harness):
    assert headwater_server_harness.api_url != headwater_session_server_harness.api_url
    plugin_flow()
    runs = httpx.post(headwater_server_harness.api_url + "/flow_runs/filter").json()
    assert [r["flow_name"] for r in runs] == ["plugin-flow"]
"""


def test_the_fixtures_come_with_the_installed_pytest_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_uses_fixtures.py").write_text(PLUGIN_TESTS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_uses_fixtures.py"],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=tmp_path,
        env=program_environment(tmp_path / "home", None),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
