"""The server down for a whole flow: the flow still completes, its records wait in the local journal,
and the next process that reaches the (restarted) server replays them, oldest first, exactly once."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from e2e_support import PROGRAMS, Api

from headwater.testing.utilities import free_port

if TYPE_CHECKING:
    from conftest import StartProgram, StartServer


FAST_GIVE_UP = {"HEADWATER_RECORD_FLUSH_TIMEOUT_SECONDS": "0.5"}


def _journaled(home: Path) -> list[Path]:
    return sorted((home / "journal").rglob("*.json*"))


def test_records_wait_in_the_journal_until_the_server_is_back(
    start_server: StartServer, program: StartProgram, client_home: Path, api: Callable[..., Api]
) -> None:
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"  # nobody listens there yet

    started = time.monotonic()
    offline = program(PROGRAMS, "steps", "50", "0", api_url=api_url, env=FAST_GIVE_UP).finish(60)
    # It gave up after 0.5 s and exited without retrying its journal at exit (that took 10 s).
    assert time.monotonic() - started < 8, offline.stderr
    assert f"total {sum(range(50))}" in offline.lines
    files = _journaled(client_home)
    assert files, f"nothing journaled under {client_home / 'journal'}; stderr:\n{offline.stderr}"
    (folder,) = {f.parent for f in files}
    assert (folder / "DESTINATION").read_text() == api_url

    server = start_server(port=port)
    assert server.api_url == api_url
    reader = api(api_url)
    assert reader.count() == 0

    later = program(PROGRAMS, "tiny", api_url=api_url).finish(60)  # any process that records replays

    runs = {r["flow_name"]: r for r in reader.flow_runs()}
    assert set(runs) == {"steps", "tiny"}
    assert runs["steps"]["state_type"] == runs["tiny"]["state_type"] == "COMPLETED", later.stderr
    task_runs = reader.task_runs(runs["steps"]["id"])
    assert len(task_runs) == 50 and all(t["state_type"] == "COMPLETED" for t in task_runs)
    step_lines = [m for m in reader.messages(runs["steps"]["id"]) if m.startswith("step ")]
    assert sorted(step_lines) == sorted(f"step {i}" for i in range(50))
    assert _journaled(client_home) == []  # replayed and removed

    # Replaying is idempotent: a third process finds nothing to send and nothing is recorded twice.
    program(PROGRAMS, "tiny", api_url=api_url).finish(60)
    assert len(reader.task_runs(runs["steps"]["id"])) == 50
    assert reader.count(flow_name=["steps"]) == 1


def test_with_the_server_down_a_second_flow_in_the_process_is_not_held_up(
    start_server: StartServer, program: StartProgram, client_home: Path, api: Callable[..., Api]
) -> None:
    """The background writer retries the journal without a deadline; a flush must not wait behind it."""
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    twice = program(PROGRAMS, "tiny-twice", api_url=api_url, env=FAST_GIVE_UP)
    twice.wait_for_line("second done", timeout=20)
    twice.finish(20)
    assert len(_journaled(client_home)) >= 2

    start_server(port=port)
    program(PROGRAMS, "tiny", api_url=api_url).finish(60)
    runs = api(api_url).flow_runs(flow_name=["tiny"])
    assert len(runs) == 3 and all(r["state_type"] == "COMPLETED" for r in runs)
    assert _journaled(client_home) == []


def test_a_server_that_never_answers_does_not_hold_a_flow_past_its_flush_deadline(
    start_server: StartServer, program: StartProgram, client_home: Path, api: Callable[..., Api]
) -> None:
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        port = silent.getsockname()[1]
        api_url = f"http://127.0.0.1:{port}/api"
        started = time.monotonic()
        hung = program(PROGRAMS, "steps", "20", "0", api_url=api_url, env=FAST_GIVE_UP).finish(60)
        assert time.monotonic() - started < 8, hung.stderr  # not the HTTP client's 30 s read timeout
        assert "no answer before the flush deadline" in hung.stderr
        assert _journaled(client_home)

    start_server(port=port)
    program(PROGRAMS, "tiny", api_url=api_url).finish(60)
    reader = api(api_url)
    (run,) = reader.flow_runs(flow_name=["steps"])
    assert run["state_type"] == "COMPLETED" and len(reader.task_runs(run["id"])) == 20
    assert _journaled(client_home) == []


def test_a_process_exiting_while_its_writer_retries_journals_what_it_held(
    program: StartProgram, client_home: Path
) -> None:
    api_url = f"http://127.0.0.1:{free_port()}/api"  # nobody listens
    started = time.monotonic()
    done = program(PROGRAMS, "stray", api_url=api_url, env=FAST_GIVE_UP).finish(60)
    assert "holding" in done.lines
    assert time.monotonic() - started < 8, done.stderr  # exit waited `record_flush_timeout_seconds`, not 10 s
    kept = "".join(path.read_text() for path in _journaled(client_home))
    assert "a stray line" in kept
