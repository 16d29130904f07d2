"""A server killed with SIGKILL and restarted on the same port in the middle of a 2,000-task flow: the
flow finishes, and every task run, state and log line is recorded exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from e2e_support import DATABASES, PROGRAMS, Api

if TYPE_CHECKING:
    from conftest import StartProgram, StartServer


TASKS = 2000


@pytest.mark.slow
@pytest.mark.parametrize("database", DATABASES)
def test_a_server_crash_mid_flow_loses_nothing_and_duplicates_nothing(
    database: str, start_server: StartServer, program: StartProgram, api: Callable[..., Api]
) -> None:
    server = start_server(database)
    flow = program(PROGRAMS, "steps", str(TASKS), api_url=server.api_url)

    flow.wait_for_line(r"progress 500\b")
    server.kill()
    flow.wait_for_line(r"progress 900\b")  # the flow went on while the server was down
    server.start()
    flow.finish()
    assert f"total {sum(range(TASKS))}" in flow.lines
    assert "Could not record" in flow.stderr and "Recording resumed" in flow.stderr  # it saw the outage

    reader = api(server.api_url)
    (run,) = reader.flow_runs(flow_name=["steps"])
    assert run["state_type"] == "COMPLETED"
    history = [s["type"] for s in reader.states(run["id"])]
    assert history[-2:] == ["RUNNING", "COMPLETED"] and len(set(history)) == len(history), history
    task_runs = reader.task_runs(run["id"])
    assert len(task_runs) == TASKS
    assert sorted(t["name"] for t in task_runs) == sorted(f"step-{i}" for i in range(TASKS))
    assert all(t["state_type"] == "COMPLETED" and t["run_count"] == 1 for t in task_runs)
    step_lines = [m for m in reader.messages(run["id"]) if m.startswith("step ")]
    assert len(step_lines) == TASKS  # none lost, none twice
    assert set(step_lines) == {f"step {i}" for i in range(TASKS)}
    assert "Traceback" not in server.output()
