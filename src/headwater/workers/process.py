"""The process worker: each flow run is `python -m headwater.engine.execute <id>` in a subprocess.

The process is started directly (no shell), in its own session so a Ctrl-C meant for the worker does not
reach it (the worker decides what happens to its runs), with the worker's environment and settings
(`HEADWATER_*`), in the deployment's `path` when that folder exists here. Its output is streamed to the
worker's console line by line, each line prefixed with the run's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from headwater.workers._runs import ExitStatus
from headwater.workers.base import BaseWorker

if TYPE_CHECKING:
    from headwater.schemas.deployments import Deployment
    from headwater.schemas.objects import FlowRun

logger = logging.getLogger("headwater.workers")

ENGINE_MODULE = "headwater.engine.execute"

OUTPUT_DRAIN_SECONDS = 2.0
"""After the process exited, how long its output may take to drain (a grandchild can hold the pipe open)."""

_READ_SIZE = 64 * 1024


class ProcessWorker(BaseWorker):
    """Runs each flow run of a `process` work pool in a local subprocess.

    Example:
        `ProcessWorker("local", limit=4).start()` serves the pool `local` until Ctrl-C; in async code,
        `await worker.run()` and `await worker.stop()`.

    Takes the arguments of `BaseWorker` (pool, queues, limit, name, intervals and grace periods).
    """

    type = "process"

    # A run's process is started ahead of time and waits, warmed up (interpreter started, Headwater
    # imported, orchestrator connection open), for the id of the next run on its stdin: starting a run
    # then costs a pipe write instead of ~0.5 s of interpreter start and imports.
    _standby: asyncio.subprocess.Process | None = None

    async def prepare(self) -> None:
        """Start the first warm process."""
        self._standby = await self._spawn(standby=True)

    async def release(self) -> None:
        """End the warm process (closing its stdin tells it no run is coming)."""
        standby, self._standby = self._standby, None
        if standby is not None and standby.returncode is None:
            with contextlib.suppress(Exception):
                assert standby.stdin is not None
                standby.stdin.close()
                await asyncio.wait_for(standby.wait(), 5)
            with contextlib.suppress(ProcessLookupError):
                standby.kill()

    async def start_infrastructure(self, flow_run: FlowRun, deployment: Deployment | None) -> ProcessInfrastructure:
        """Hand a claimed flow run to the warm process (or start a fresh one), and warm up the next."""
        cwd = _working_directory(flow_run, deployment)
        process = await self._hand_over(flow_run, cwd)
        if process is None:
            process = await self._spawn(standby=False, flow_run=flow_run, cwd=cwd)
        self._standby = await self._spawn(standby=True)
        logger.info("Flow run %r started in process %d%s.", flow_run.name, process.pid, f" in {cwd}" if cwd else "")
        return ProcessInfrastructure(process, prefix=f"{flow_run.name} | ")

    async def _hand_over(self, flow_run: FlowRun, cwd: str | None) -> asyncio.subprocess.Process | None:
        standby, self._standby = self._standby, None
        if standby is None or standby.returncode is not None or standby.stdin is None:
            return None
        try:
            standby.stdin.write(f"{flow_run.id} {cwd or ''}\n".encode())
            await standby.stdin.drain()
            standby.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            return None
        return standby

    async def _spawn(
        self, *, standby: bool, flow_run: FlowRun | None = None, cwd: str | None = None
    ) -> asyncio.subprocess.Process:
        args = ["--standby"] if standby else [str(flow_run.id if flow_run else "")]
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            ENGINE_MODULE,
            *args,
            stdin=asyncio.subprocess.PIPE if standby else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=child_environment(),
            start_new_session=True,
        )


class ProcessInfrastructure:
    """A running engine process: its output is pumped to the console until it exits."""

    def __init__(self, process: asyncio.subprocess.Process, *, prefix: str) -> None:
        self.process = process
        self._pumps = [
            asyncio.create_task(_pump(process.stdout, sys.stdout, prefix)),
            asyncio.create_task(_pump(process.stderr, sys.stderr, prefix)),
        ]

    @property
    def pid(self) -> int:
        """The process id (also its process group and session id)."""
        return self.process.pid

    async def wait(self) -> ExitStatus:
        """Wait for the process to exit and its output to be written; its exit status."""
        returncode = await self.process.wait()
        _, pending = await asyncio.wait(self._pumps, timeout=OUTPUT_DRAIN_SECONDS)
        for pump in pending:
            pump.cancel()
        return ExitStatus(returncode)

    async def terminate(self, grace_seconds: float) -> None:
        """SIGTERM the process (the engine records its run and exits); SIGKILL its whole process group
        when it is still there after `grace_seconds`."""
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(self.process.wait()), grace_seconds)
        except TimeoutError:
            logger.warning("Process %d did not exit %ss after SIGTERM: killing it.", self.pid, grace_seconds)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if hasattr(os, "killpg"):  # the group: what the run's process started dies with it
                    os.killpg(self.pid, signal.SIGKILL)
                else:
                    self.process.kill()


def child_environment() -> dict[str, str]:
    """The worker's environment, with the settings in force written as `HEADWATER_*` variables, so the
    flow run's process records where the worker does (also when settings were overridden in-process)."""
    from headwater.settings import ENV_PREFIX, current_overrides, get_settings

    env = dict(os.environ)
    settings = get_settings()
    for name, value in current_overrides().items():
        key = ENV_PREFIX + name.upper()
        if value is None:
            env.pop(key, None)
        else:
            env[key] = _as_env_value(value)
    env[ENV_PREFIX + "HOME"] = str(settings.home)
    if settings.api_url:
        env[ENV_PREFIX + "API_URL"] = settings.api_url
    else:
        env.pop(ENV_PREFIX + "API_URL", None)
        env[ENV_PREFIX + "DATABASE_URL"] = settings.resolved_database_url
    env["PYTHONUNBUFFERED"] = "1"  # output reaches the console as it is printed
    return env


def _as_env_value(value: Any) -> str:
    secret = getattr(value, "get_secret_value", None)
    if callable(secret):
        return str(secret())
    return str(value)


def _working_directory(flow_run: FlowRun, deployment: Deployment | None) -> str | None:
    if deployment is None or not deployment.path:
        return None
    if Path(deployment.path).is_dir():
        return deployment.path
    logger.warning(
        "Flow run %r: the deployment's path %r does not exist on this machine; starting in %s.",
        flow_run.name,
        deployment.path,
        Path.cwd(),
    )
    return None


async def _pump(stream: asyncio.StreamReader | None, out: TextIO, prefix: str) -> None:
    """Copy a process's output to `out` line by line, each line prefixed (lines of any length)."""
    if stream is None:
        return
    pending = b""
    while True:
        chunk = await stream.read(_READ_SIZE)
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        if lines:
            _write(out, prefix, lines)
    if pending:
        _write(out, prefix, [pending])


def _write(out: TextIO, prefix: str, lines: list[bytes]) -> None:
    text = "".join(f"{prefix}{line.decode(errors='replace').rstrip(chr(13))}\n" for line in lines)
    try:
        out.write(text)
        out.flush()
    except (OSError, ValueError):  # the console is gone (closed pipe): the run goes on regardless
        pass
