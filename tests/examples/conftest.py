"""Fixtures for running programs as a user would: each in its own process, with its own
`HEADWATER_HOME`, then reading what it recorded straight from the embedded store's SQLite file.

- `headwater_home`: a fresh, empty home folder for the test.
- `run_program`: runs a Python file in a subprocess recording into `headwater_home`.
- `store`: reads the runs, task runs and log lines recorded there.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

RunProgram = Callable[..., subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class Store:
    """What a program recorded, read from `$HEADWATER_HOME/headwater.db` (after the program exited)."""

    path: Path

    def _query(self, sql: str, *params: object) -> list[dict[str, Any]]:
        assert self.path.exists(), f"nothing was recorded: {self.path} does not exist"
        with closing(sqlite3.connect(self.path)) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql, params)]

    def flow_runs(self, flow_name: str) -> list[dict[str, Any]]:
        """The runs of a flow, oldest first, each with its `parent_flow_run_id` (None at top level)."""
        return self._query(
            """
            SELECT r.id, r.name, r.state_type, r.state_name, parent.flow_run_id AS parent_flow_run_id
            FROM flow_runs r
            JOIN flows f ON f.id = r.flow_id
            LEFT JOIN task_runs parent ON parent.id = r.parent_task_run_id
            WHERE f.name = ?
            ORDER BY r.created
            """,
            flow_name,
        )

    def task_runs(self, flow_run_id: str) -> list[dict[str, Any]]:
        """A flow run's task runs (including those standing for subflow calls)."""
        return self._query(
            "SELECT name, state_type, state_name, run_count, child_flow_run_id FROM task_runs WHERE flow_run_id = ?",
            flow_run_id,
        )

    def log_messages(self, flow_run_id: str) -> list[str]:
        """The log lines of a flow run and its task runs, in the order they were emitted."""
        rows = self._query("SELECT message FROM logs WHERE flow_run_id = ? ORDER BY timestamp", flow_run_id)
        return [row["message"] for row in rows]


@pytest.fixture
def headwater_home(tmp_path: Path) -> Path:
    home = tmp_path / "headwater-home"
    home.mkdir()
    return home


@pytest.fixture
def run_program(headwater_home: Path, tmp_path: Path) -> RunProgram:
    """`run_program(path, *args, env={...})`: run a Python file to completion in a fresh process.

    The process sees no `HEADWATER_*` settings from this environment except `HEADWATER_HOME`, so it
    records into the test's own embedded store whatever the developer's shell says.
    """

    def run(program: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("HEADWATER_")}
        environ.update(HEADWATER_HOME=str(headwater_home), PYTHONIOENCODING="utf-8", **(env or {}))
        return subprocess.run(
            [sys.executable, str(program), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=environ,
            cwd=tmp_path,
            timeout=90,
        )

    return run


@pytest.fixture
def store(headwater_home: Path) -> Store:
    return Store(headwater_home / "headwater.db")
