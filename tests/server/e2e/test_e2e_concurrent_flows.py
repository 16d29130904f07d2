"""Four flow processes writing at once through one server over SQLite: everything is recorded and the
server reports no error."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from e2e_support import PROGRAMS, Api

if TYPE_CHECKING:
    from conftest import StartProgram, StartServer


FLOWS, TASKS = 4, 300


def test_four_flows_at_once_through_one_sqlite_server(
    start_server: StartServer, program: StartProgram, api: Callable[..., Api]
) -> None:
    server = start_server("sqlite")
    flows = [program(PROGRAMS, "steps", str(TASKS), "0.001", api_url=server.api_url) for _ in range(FLOWS)]
    for flow in flows:
        flow.finish()
        assert not flow.stderr.count("Could not record"), flow.stderr

    reader = api(server.api_url)
    runs = reader.flow_runs(flow_name=["steps"])
    assert len(runs) == FLOWS and all(r["state_type"] == "COMPLETED" for r in runs)
    for run in runs:
        task_runs = reader.task_runs(run["id"])
        assert len(task_runs) == TASKS and all(t["state_type"] == "COMPLETED" for t in task_runs)
        assert sum(m.startswith("step ") for m in reader.messages(run["id"])) == TASKS
    output = server.output()
    assert "Traceback" not in output and "ERROR" not in output, output
