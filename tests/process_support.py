"""Child processes for end-to-end tests, shared by the test packages: a process whose output goes to a
file read as it grows, a `headwater worker start` process, polling with a deadline, and "is that pid
still alive"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T | None], *, what: str, timeout: float = 45.0, interval: float = 0.05) -> T:
    """Poll `condition` until it returns something truthy, and return that; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return status != "Z"


class Process:
    """A child process whose output (stdout and stderr together) goes to a file, read as it grows."""

    def __init__(
        self,
        command: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.command = list(command)
        self.log_path = log_path
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8", **(env or {})}
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def launch(self) -> Process:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env, cwd=self.cwd
            )
        return self

    def output(self) -> str:
        """Everything it printed so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_output(self, text: str, timeout: float = 45.0) -> str:
        """Wait until it printed `text`; fail at once, with its output, if it exits first."""

        def printed() -> str | None:
            output = self.output()
            if text in output:
                return output
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"{self.command} exited with {self.process.returncode}:\n{output}")
            return None

        try:
            return wait_for(printed, what=f"{text!r} in the output of {self.command}", timeout=timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- output ---\n{self.output()}") from None

    def signal(self, signum: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float = 45.0) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM it and wait (SIGKILL if it does not exit in time); its exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL it (no clean-up of any kind) and reap it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)


class Worker(Process):
    """`headwater worker start --pool POOL …` in a child process."""

    def __init__(
        self,
        pool: str,
        log_path: Path,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        shutdown_grace: float = 2.0,
    ) -> None:
        command = [sys.executable, "-m", "headwater.cli", "worker", "start", "--pool", pool]
        command += ["--shutdown-grace", str(shutdown_grace), *args]
        super().__init__(command, log_path, env=env, cwd=cwd)
        self.pool = pool

    def start(self) -> Worker:
        """Start the worker and return once it polls its pool."""
        self.launch()
        self.wait_for_output("started: polling work pool")
        return self

    def __enter__(self) -> Worker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
