"""Ctrl-C and SIGTERM: a flow process interrupted mid-run records its run CRASHED, not RUNNING, and ends.

Each test starts a real process running a flow (recording into this test's store), waits until the
store shows the run RUNNING, sends the signal, and polls the store for what the process recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sdk_support import Records, wait_until

from headwater.core.states import StateType
from headwater.schemas.objects import FlowRun

SCRIPT = Path(__file__).with_name("sdk_signal_flow.py")
# After the signal the run must be recorded finished, and the process end, this soon (the flow would
# otherwise block for 60 s).
SETTLE_WITHIN = 20.0
EXIT_WITHIN = 10.0

pytestmark = pytest.mark.slow

@dataclass
class Interrupted:
    run: FlowRun
    returncode: int | None
    """None when the process had not ended `EXIT_WITHIN` seconds after the run was recorded finished."""
    stderr: str


def _interrupt(records: Records, where: str, signum: int) -> Interrupted:
    started_line = "flow started" if where == "flow" else "task started"
    # The harness exported HEADWATER_HOME: the child records into this test's store.
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), where],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:

        def running() -> FlowRun | None:
            assert proc.poll() is None, proc.communicate()
            runs = records.flow_runs(flow_name=["signalled"], state_type=[StateType.RUNNING])
            return runs[0] if runs and started_line in records.messages(runs[0].id) else None

        run = wait_until(running, timeout=60)
        proc.send_signal(signum)
        settled = wait_until(
            lambda: (r := records.flow_run(run.id)).state_type is not StateType.RUNNING and r,
            timeout=SETTLE_WITHIN,
        )
        try:
            returncode: int | None = proc.wait(timeout=EXIT_WITHIN)
        except subprocess.TimeoutExpired:
            returncode = None
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate()
    return Interrupted(settled, returncode, err.decode(errors="replace"))


@pytest.mark.parametrize("where", ["flow", "task", "submitted"])
def test_sigterm_records_the_run_crashed(records: Records, where: str) -> None:
    result = _interrupt(records, where, signal.SIGTERM)
    assert result.run.state_type is StateType.CRASHED, result.stderr
    assert result.run.state is not None and "signal 15" in (result.run.state.message or "")
    assert result.run.end_time is not None


@pytest.mark.parametrize("where", ["flow", "task", "submitted"])
def test_ctrl_c_records_the_run_crashed(records: Records, where: str) -> None:
    result = _interrupt(records, where, signal.SIGINT)
    assert result.run.state_type is StateType.CRASHED, result.stderr
    assert result.run.state is not None and "Ctrl-C" in (result.run.state.message or "")


@pytest.mark.parametrize("where", ["flow", "task", "submitted"])
def test_sigterm_ends_the_process_with_status_143(records: Records, where: str) -> None:
    result = _interrupt(records, where, signal.SIGTERM)
    assert result.returncode == 128 + signal.SIGTERM, result.stderr


@pytest.mark.parametrize("where", ["flow", "task", "submitted"])
def test_ctrl_c_ends_the_process_with_keyboard_interrupt(records: Records, where: str) -> None:
    result = _interrupt(records, where, signal.SIGINT)
    assert result.returncode is not None and result.returncode != 0, result.stderr
    assert "KeyboardInterrupt" in result.stderr


def test_task_run_interrupted_on_the_main_thread_is_recorded_crashed(records: Records) -> None:
    result = _interrupt(records, "task", signal.SIGTERM)
    (task_run,) = records.task_runs(result.run.id)
    assert task_run.state_type is StateType.CRASHED, result.stderr


def test_crashed_run_history_and_log_end_with_the_crash(records: Records) -> None:
    result = _interrupt(records, "flow", signal.SIGINT)
    names = [s.name for s in sorted(records.flow_run_states(result.run.id), key=lambda s: s.timestamp)]
    assert names[-2:] == ["Running", "Crashed"]
    assert any(m.startswith("Finished in state Crashed") for m in records.messages(result.run.id))
