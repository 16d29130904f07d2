"""Helpers of the end-to-end tests (the fixtures are in conftest): where things are, polling with a
deadline, reading a server's API, and programs running in their own processes."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from headwater.testing.utilities import HeadwaterServer

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "e2e_programs.py"
ACCEPTANCE = Path(__file__).resolve().parents[3].parent / "shared" / "acceptance"
PG_ADMIN_URL = os.environ.get("HEADWATER_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""For `@pytest.mark.parametrize("database", DATABASES)`."""

needs_acceptance = pytest.mark.skipif(
    not ACCEPTANCE.is_dir(), reason=f"the shared acceptance programs are not at {ACCEPTANCE}"
)


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy (returned), failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class Api:
    """Synchronous reads of a server's API (`api_url` ends in `/api`)."""

    def __init__(self, api_url: str, api_key: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=api_url + "/", headers=headers, timeout=30)

    def close(self) -> None:
        self.client.close()

    def _post(self, path: str, body: Any = None) -> Any:
        response = self.client.post(path, json=body)
        assert response.is_success, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def flow_runs(self, **filter_: Any) -> list[dict[str, Any]]:
        """Flow runs matching a filter, oldest start first."""
        result: list[dict[str, Any]] = self._post("flow_runs/filter", {"sort": "START_TIME_ASC", **filter_})
        return result

    def flow_run(self, flow_run_id: str) -> dict[str, Any]:
        found = self.find_flow_run(flow_run_id)
        assert found is not None, f"no flow run {flow_run_id} on the server"
        return found

    def find_flow_run(self, flow_run_id: str) -> dict[str, Any] | None:
        """The flow run, or None while the server does not know it (yet)."""
        response = self.client.get(f"flow_runs/{flow_run_id}")
        if response.status_code == 404:
            return None
        assert response.is_success, response.text
        result: dict[str, Any] = response.json()
        return result

    def state_type(self, flow_run_id: str) -> str | None:
        """The flow run's state type, None while the server does not know the run."""
        run = self.find_flow_run(flow_run_id)
        return None if run is None else str(run["state_type"])

    def count(self, **filter_: Any) -> int:
        return int(self._post("flow_runs/count", filter_))

    def task_runs(self, flow_run_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._post("task_runs/filter", {"flow_run_id": [flow_run_id], "limit": 10_000})
        return result

    def logs(self, flow_run_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._post("logs/filter", {"flow_run_id": [flow_run_id], "limit": 10_000})
        return result

    def messages(self, flow_run_id: str) -> list[str]:
        return [line["message"] for line in self.logs(flow_run_id)]

    def states(self, flow_run_id: str) -> list[dict[str, Any]]:
        response = self.client.get("flow_run_states/", params={"flow_run_id": flow_run_id})
        assert response.is_success, response.text
        result: list[dict[str, Any]] = response.json()
        return result


class Program:
    """A program running in its own process; its stdout lines are collected as they come."""

    def __init__(self, process: subprocess.Popen[str], description: str) -> None:
        self.process = process
        self.description = description
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        self.stderr = ""
        self._out = threading.Thread(target=self._read_stdout, daemon=True)
        self._err = threading.Thread(target=self._read_stderr, daemon=True)
        self._out.start()
        self._err.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            self._new.put(line)
        self._new.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self.stderr = self.process.stderr.read()

    @property
    def stdout(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """Wait for a stdout line matching `pattern` (a regex, searched); fails if the program ends first."""
        compiled = re.compile(pattern)
        for line in list(self.lines):
            if found := compiled.search(line):
                return found
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._new.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"{self.description}: no line matching {pattern!r} within {timeout:g} s")
            if line is None:
                self.wait(10)
                pytest.fail(
                    f"{self.description} ended (status {self.process.returncode}) without printing a line matching "
                    f"{pattern!r}.\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
                )
            if found := compiled.search(line):
                return found

    def wait(self, timeout: float = 90) -> int:
        """Wait for the program to end; its exit status."""
        code = self.process.wait(timeout)
        self._out.join(10)
        self._err.join(10)
        return code

    def finish(self, timeout: float = 90) -> Program:
        """Wait for the program to end and check it succeeded."""
        code = self.wait(timeout)
        assert code == 0, f"{self.description} exited with {code}.\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        return self

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.wait(30)


StartProgram = Callable[..., Program]
StartServer = Callable[..., HeadwaterServer]


def program_environment(home: Path, api_url: str | None, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a program: none of this process's HEADWATER_* settings, a private home,
    the API URL, and the acceptance folder on PYTHONPATH."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
    environ.update(HEADWATER_HOME=str(home), PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1")
    if api_url is not None:
        environ["HEADWATER_API_URL"] = api_url
    path = [str(ACCEPTANCE), str(HERE)]
    if environ.get("PYTHONPATH"):
        path.append(environ["PYTHONPATH"])
    environ["PYTHONPATH"] = os.pathsep.join(path)
    environ.update(env or {})
    return environ


def run_cli(*args: str, home: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`headwater <args>` in its own process with this home (and no HEADWATER_* from here but `env`)."""
    return subprocess.run(
        [sys.executable, "-m", "headwater.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=program_environment(home, None, env),
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
