"""Several processes running flows at once against one fresh SQLite file: every run succeeds and is
recorded, and no process ever sees "database is locked"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sdk_support import Records

from headwater.core.states import StateType
from headwater.testing.utilities import Harness

SCRIPT = Path(__file__).with_name("sdk_concurrent_flows.py")
PROCESSES = 4
FLOWS = 5
TASKS = 20


@pytest.mark.slow
def test_four_processes_record_every_run_without_lock_errors(
    harness: Harness, records: Records, tmp_path: Path
) -> None:
    db_file = harness.home / "headwater.db"
    assert not db_file.exists()  # nobody has opened the store yet: the processes race to create it
    gate = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), str(worker), str(FLOWS), str(TASKS), str(gate)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ),  # HEADWATER_HOME points at the harness's folder
        )
        for worker in range(PROCESSES)
    ]
    gate.touch()
    outputs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=90)
            outputs.append((proc.returncode, out.decode(), err.decode()))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    expected_sum = str(sum(range(TASKS)))
    for returncode, out, err in outputs:
        assert returncode == 0, err
        assert "database is locked" not in (out + err).lower()
        assert "journal" not in err.lower()  # nothing had to be kept back for later delivery
        assert out.split() == [expected_sum] * FLOWS, err

    runs = records.flow_runs(flow_name=["concurrent-flow"], limit=1000)
    assert len(runs) == PROCESSES * FLOWS
    assert {r.state_type for r in runs} == {StateType.COMPLETED}
    assert sorted(r.parameters["worker"] for r in runs) == sorted(list(range(PROCESSES)) * FLOWS)
    for run in runs:
        task_runs = records.task_runs(run.id)
        assert len(task_runs) == TASKS
        assert {t.state_type for t in task_runs} == {StateType.COMPLETED}
        messages = records.messages(run.id, limit=1000)
        assert sum(m.startswith(f"worker {run.parameters['worker']} task") for m in messages) == TASKS
        assert messages[-1].startswith("Finished in state Completed")
