"""A flow process killed with SIGKILL cannot report anything; the server notices its heartbeats stopped
and marks the run CRASHED, saying why. A run that keeps beating through a long task is left alone."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from e2e_support import PROGRAMS, Api, wait_until

if TYPE_CHECKING:
    from conftest import StartProgram, StartServer


SERVER_ENV = {"HEADWATER_CRASH_DETECTION_GRACE_SECONDS": "2", "HEADWATER_CRASH_DETECTION_LOOP_SECONDS": "0.3"}
FLOW_ENV = {"HEADWATER_HEARTBEAT_INTERVAL_SECONDS": "0.5"}


@pytest.mark.slow
def test_a_killed_flow_process_is_marked_crashed(
    start_server: StartServer, program: StartProgram, api: Callable[..., Api]
) -> None:
    server = start_server(env=SERVER_ENV)
    reader = api(server.api_url)
    victim = program(PROGRAMS, "sleepy", "600", api_url=server.api_url, env=FLOW_ENV)
    # Outlives the grace period twice over, beating every 0.5 s.
    survivor = program(PROGRAMS, "sleepy", "4", api_url=server.api_url, env=FLOW_ENV)
    victim_id = victim.wait_for_line(r"started (\S+)").group(1)
    survivor_id = survivor.wait_for_line(r"started (\S+)").group(1)
    wait_until(lambda: reader.state_type(victim_id) == "RUNNING", 30, "the run to be recorded RUNNING")

    os.kill(victim.process.pid, signal.SIGKILL)
    assert victim.wait(30) == -signal.SIGKILL

    wait_until(lambda: reader.state_type(victim_id) == "CRASHED", 30, "the run to be marked CRASHED")
    message = reader.flow_run(victim_id)["state"]["message"]
    assert "No heartbeat for over 2 seconds" in message and "killed" in message, message
    history = [s["type"] for s in reader.states(victim_id)]
    assert history[-2:] == ["RUNNING", "CRASHED"] and history.count("CRASHED") == 1, history

    survivor.finish(60)
    history = [s["type"] for s in reader.states(survivor_id)]
    assert history[-2:] == ["RUNNING", "COMPLETED"] and "CRASHED" not in history, history
    assert "sleeping" in reader.messages(survivor_id)
