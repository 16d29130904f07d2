"""The users' acceptance programs (`/work/shared/acceptance`: monoflow and flow of subflows), run
unmodified in their own processes against a real server on 127.0.0.1, over SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from e2e_support import ACCEPTANCE, DATABASES, Api, needs_acceptance

if TYPE_CHECKING:
    from conftest import StartProgram, StartServer


pytestmark = [needs_acceptance, pytest.mark.parametrize("database", DATABASES)]


def test_monoflow_is_recorded_with_its_log_lines(
    database: str, start_server: StartServer, program: StartProgram, github_api: str, api: Callable[..., Api]
) -> None:
    server = start_server(database)
    done = program(ACCEPTANCE / "monoflow.py", api_url=server.api_url, env={"GITHUB_API_URL": github_api}).finish()

    reader = api(server.api_url)
    (run,) = reader.flow_runs(flow_name=["get-repo-info"])
    assert run["state_type"] == "COMPLETED", done.stderr
    messages = reader.messages(run["id"])
    for line in ["PrefectHQ/prefect repository statistics 🤓:", "Stars 🌠 : 17342", "Forks 🍴 : 1645"]:
        assert line in messages
    assert not (server.home / "journal").exists() or not any((server.home / "journal").rglob("*.json"))


def test_subflows_without_its_parameter_fails_naming_it(
    database: str, start_server: StartServer, program: StartProgram, github_api: str, api: Callable[..., Api]
) -> None:
    server = start_server(database)
    done = program(ACCEPTANCE / "subflows.py", api_url=server.api_url, env={"GITHUB_API_URL": github_api})

    assert done.wait() != 0
    assert "contributors_url" in done.stderr
    reader = api(server.api_url)
    (run,) = reader.flow_runs(flow_name=["calculate-average-commits"])
    assert run["state_type"] == "FAILED"
    assert "contributors_url" in run["state"]["message"]


def test_subflows_parent_links_the_child_run_and_logs_the_average(
    database: str, start_server: StartServer, program: StartProgram, github_api: str, api: Callable[..., Api]
) -> None:
    server = start_server(database)
    program(ACCEPTANCE / "subflows.py", "parent", api_url=server.api_url, env={"GITHUB_API_URL": github_api}).finish()

    reader = api(server.api_url)
    (parent,) = reader.flow_runs(flow_name=["get-repo-info"])
    (child,) = reader.flow_runs(flow_name=["calculate-average-commits"])
    assert parent["state_type"] == child["state_type"] == "COMPLETED"
    assert child["parent_flow_run_id"] == parent["id"]
    assert [r["id"] for r in reader.flow_runs(parent_flow_run_id=parent["id"])] == [child["id"]]
    (call,) = [t for t in reader.task_runs(parent["id"]) if t["child_flow_run_id"] == child["id"]]
    assert call["state_type"] == "COMPLETED"
    assert "Average commits per contributor 💌 : 100.00" in reader.messages(parent["id"])
