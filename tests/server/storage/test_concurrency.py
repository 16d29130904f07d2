"""Several OS processes on one fresh SQLite file: they migrate it once and write without "database is
locked"."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import headwater
from headwater.server.storage.database import Database, sqlite_url
from headwater.server.storage.migrations import HEAD_REVISION
from headwater.server.storage.tables import flow_runs, logs, task_run_states, task_runs

WRITER = Path(__file__).with_name("concurrent_writer.py")
SRC = Path(headwater.__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _start(args: list[str]) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _finish(processes: list[subprocess.Popen[str]]) -> None:
    failures = []
    for process in processes:
        out, err = process.communicate(timeout=90)
        if process.returncode != 0 or out.strip() != "ok":
            failures.append(err[-3000:])
    assert not failures, "\n---\n".join(failures)


def test_processes_opening_a_fresh_file_at_once_migrate_it_once(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "headwater.db")
    code = (
        "import asyncio, sys, time\n"
        "from headwater.server.storage.database import Database\n"
        "async def main():\n"
        f"    async with Database({url!r}) as db:\n"
        "        print(await db.current_revision())\n"
        "while time.time() < float(sys.argv[1]): time.sleep(0.001)\n"
        "asyncio.run(main())\n"
    )
    start_at = str(time.time() + 1.5)
    processes = [_start(["-c", code, start_at]) for _ in range(8)]
    outputs = [process.communicate(timeout=90) for process in processes]
    assert [p.returncode for p in processes] == [0] * 8, [err for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == [HEAD_REVISION] * 8


def test_four_processes_write_batches_to_one_fresh_file(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "headwater.db")
    workers, batches, size = 4, 5, 500
    start_at = str(time.time() + 1.5)
    started = time.perf_counter()
    _finish([_start([str(WRITER), url, start_at, str(w), str(batches), str(size)]) for w in range(workers)])
    print(f"\n{workers} processes x {batches} batches x {size} task runs: {time.perf_counter() - started:.2f}s")

    async def counts() -> dict[str, int]:
        async with Database(url) as db, db.read() as conn:
            return {
                table.name: (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
                for table in (flow_runs, task_runs, task_run_states, logs)
            }

    total = workers * batches * size
    assert asyncio.run(counts()) == {
        "flow_runs": workers,
        "task_runs": total,
        "task_run_states": 3 * total,
        "logs": total,
    }
