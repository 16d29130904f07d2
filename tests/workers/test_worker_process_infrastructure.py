"""The process worker's pieces that need no orchestrator: exit statuses, output streaming, terminating a
process that ignores SIGTERM, and the environment a flow run's process gets."""

from __future__ import annotations

import asyncio
import io
import signal
import sys

import pytest

from headwater.settings import temporary_settings
from headwater.workers import ExitStatus
from headwater.workers.process import ProcessInfrastructure, _pump, child_environment


@pytest.mark.parametrize(
    ("returncode", "described"),
    [
        (0, "exited with code 0"),
        (3, "exited with code 3"),
        (-9, "was killed by signal 9 (SIGKILL)"),
        (-15, "was killed by signal 15 (SIGTERM)"),
        (None, "ended with an unknown status"),
    ],
)
def test_exit_status_says_how_a_process_ended(returncode: int | None, described: str) -> None:
    assert ExitStatus(returncode).describe() == described
    assert ExitStatus(returncode).ok is (returncode == 0)


def test_output_is_copied_line_by_line_with_the_prefix_whatever_the_line_length() -> None:
    long_line = "x" * 200_000

    async def scenario() -> str:
        reader = asyncio.StreamReader()
        reader.feed_data(f"first\r\n{long_line}\nhalf".encode())
        reader.feed_data(" done\nno newline at the end ✅".encode())
        reader.feed_eof()
        out = io.StringIO()
        await _pump(reader, out, "run-1 | ")
        return out.getvalue()

    assert asyncio.run(scenario()).splitlines() == [
        "run-1 | first",
        f"run-1 | {long_line}",
        "run-1 | half done",
        "run-1 | no newline at the end ✅",
    ]


def test_terminate_kills_a_process_that_ignores_sigterm() -> None:
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )

    async def scenario() -> ExitStatus:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            code,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        assert process.stdout is not None
        assert await process.stdout.readline() == b"ready\n"
        infrastructure = ProcessInfrastructure(process, prefix="stubborn | ")
        await infrastructure.terminate(grace_seconds=0.5)
        return await asyncio.wait_for(infrastructure.wait(), 30)

    assert asyncio.run(scenario()).returncode == -signal.SIGKILL


def test_terminate_lets_a_process_end_itself_on_sigterm() -> None:
    code = "import time; print('ready', flush=True); time.sleep(60)"

    async def scenario() -> ExitStatus:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE, start_new_session=True
        )
        assert process.stdout is not None
        assert await process.stdout.readline() == b"ready\n"
        infrastructure = ProcessInfrastructure(process, prefix="")
        await infrastructure.terminate(grace_seconds=20)
        return await asyncio.wait_for(infrastructure.wait(), 30)

    assert asyncio.run(scenario()).returncode == -signal.SIGTERM


def test_a_flow_run_process_records_where_the_worker_does() -> None:
    with temporary_settings(api_url="http://127.0.0.1:9/api", logging_level="DEBUG"):
        env = child_environment()
    assert env["HEADWATER_API_URL"] == "http://127.0.0.1:9/api"
    assert env["HEADWATER_LOGGING_LEVEL"] == "DEBUG"
    assert env["PYTHONUNBUFFERED"] == "1"

    with temporary_settings(api_url=None, database_url="sqlite+aiosqlite:////tmp/elsewhere.db"):
        env = child_environment()
    assert "HEADWATER_API_URL" not in env
    assert env["HEADWATER_DATABASE_URL"] == "sqlite+aiosqlite:////tmp/elsewhere.db"
