"""What the flow-of-deployments tests share: polling with a deadline, reading runs from the server, worker
processes (`headwater worker start`), the CLI in its own process, and the deployed flows' entrypoints.

(A module of its own, not `conftest.py`, so test modules can import its names.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from headwater._wiring import call
from headwater.core.states import is_terminal
from headwater.schemas.filters import FlowRunFilter
from headwater.schemas.objects import FlowRun
from process_support import Process, Worker, process_alive, wait_for

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
ACCEPTANCE = Path(__file__).resolve().parents[2].parent / "shared" / "acceptance"
PG_ADMIN_URL = os.environ.get("HEADWATER_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def unique(prefix: str) -> str:
    """A name no other test uses (the tests of a module share one server)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"





def read_run(run_id: UUID) -> FlowRun:
    """The run as the server has it now."""
    return call(lambda o: o.read_flow_run(run_id))


def read_runs(**filter_: Any) -> list[FlowRun]:
    """The runs matching a `FlowRunFilter`."""
    run_filter = FlowRunFilter(**filter_)
    return call(lambda o: o.read_flow_runs(run_filter))


def final_run(run_id: UUID, *, timeout: float = 45.0) -> FlowRun:
    """The run once it is in a final state."""

    def finished() -> FlowRun | None:
        run = read_run(run_id)
        return run if is_terminal(run.state_type) else None

    return wait_for(finished, what=f"flow run {run_id} to end", timeout=timeout)


def run_in_state(run_id: UUID, *state_types: str, timeout: float = 45.0) -> FlowRun:
    """The run once its state type is one of `state_types`."""

    def reached() -> FlowRun | None:
        run = read_run(run_id)
        return run if run.state_type is not None and run.state_type.value in state_types else None

    return wait_for(reached, what=f"flow run {run_id} to be {' or '.join(state_types)}", timeout=timeout)


def written_pid(marker: Path, *, timeout: float = 45.0) -> int:
    """The process id a flow wrote into `marker`, once it is there."""

    def written() -> str | None:
        text = marker.read_text() if marker.exists() else ""
        return text.strip() or None

    return int(wait_for(written, what=f"a flow to write its pid into {marker}", timeout=timeout))





def kill_quietly(pid: int) -> None:
    """SIGKILL a process (left over by a failed test) if it is still there."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def deployment_name(flow: Any, name: str) -> str:
    """`flow-name/deployment-name`, as `run_deployment` and the CLI take it."""
    return f"{flow.name}/{name}"


def cli(
    *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """`headwater <args>` in its own process, with this process's environment (so its server) and `env`."""
    return subprocess.run(
        [sys.executable, "-m", "headwater.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200", **(env or {})},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )








class Processes:
    """Processes started for a test (or a module), all stopped at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[Process] = []

    def worker(
        self,
        pool: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        shutdown_grace: float = 2.0,
    ) -> Worker:
        log = self.folder / f"worker-{len(self.started)}.log"
        worker = Worker(pool, log, args, env=env, cwd=cwd, shutdown_grace=shutdown_grace)
        self.started.append(worker)
        return worker.start()

    def python(self, *args: str | Path, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Process:
        log = self.folder / f"process-{len(self.started)}.log"
        process = Process([sys.executable, *map(str, args)], log, env=env, cwd=cwd)
        self.started.append(process)
        return process.launch()

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()


def standby_processes(api_url: str) -> list[int]:
    """The warm engine processes (`python -m headwater.engine.execute --standby`) talking to this server."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            environment = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours
            continue
        ours = f"HEADWATER_API_URL={api_url}".encode() in environment
        if b"--standby" in command and ours and process_alive(int(entry.name)):
            found.append(int(entry.name))
    return found
