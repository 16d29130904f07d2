"""The same work recorded through a real Headwater server over HTTP, instead of the embedded store.

The script starts `headwater server start` as a subprocess on a free local port, with its own
`HEADWATER_HOME` (so its own SQLite file), polls `GET /api/health` until it answers, then runs the client
side in a fresh subprocess (this script with `--client`) with `HEADWATER_API_URL` pointing at it and
another `HEADWATER_HOME`. At the end the server gets SIGTERM (SIGKILL if it lingers).

The client measures:

1. A flow of N trivial sequential tasks, N = 1,000 (median of 3) and 10,000 (once): µs per task in the
   body and over the whole flow call, and the time from the flow's return (it flushes first) until
   every task run reads back COMPLETED through the API (`POST /api/task_runs/filter`). As in
   `_common`, "readable" is when the first query that saw every run started; that query's own time
   is `read_back_query_ms` (`read_back_done_after_return_ms` adds it). These flows run first, on a
   nearly empty database.
2. A flow calling a trivial subflow 200 times (median of 3): ms per subflow call.
3. Logs: a flow of 10,000 tasks each logging one line with `get_run_logger().info(...)` (shown on the
   console and shipped to the server), against the same flow logging through a plain
   `logging.getLogger("bench")` that shows the same lines on the console the same way (Headwater's
   console handler and format) without shipping them: the slowdown in % is the cost of shipping.
   The server's write cost grows as its database fills (each flow adds 10,000 task runs), so each
   run-logger flow is bracketed by two console-only flows (N R N R N R N) and compared with their mean;
   the figure is the median of the `LOG_COMPARISONS` comparisons (one 10,000-line comparison on a
   shared machine moves by more than the goal).
   Also split: the body (where the console line is written and the line buffered) and the final
   flush (where the server writes the 10,000 extra records). After the flow returns, every line must
   be readable via `POST /api/logs/filter`, paged by `LOG_PAGE`.

Goals: < 150 µs per recorded task (N=1,000 and 10,000); all 10,000 task runs readable within 0.5 s of
the flow's return; < 2 ms per subflow call; shipping 10,000 log lines costs <= 10 %.
The server and the client are two processes sharing the machine's CPUs: the load average (also in
the JSON) says how busy the machine was, and other work on it (e.g. test runs) slows both.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from _common import BodyTiming, Goal, measure_flow, median_metrics, per_call_us, report, wait_until_readable

from headwater import flow, get_run_logger, runtime, task

SIZES = {1_000: 3, 10_000: 1}  # N: repeats
SUBFLOWS = 200
SUBFLOW_REPEATS = 3
LOG_LINES = 10_000
LOG_COMPARISONS = 3
LOG_PAGE = 1_000  # lines per `POST /api/logs/filter` page
LOG_MESSAGE = "bench line %d of %s"

HEALTH_DEADLINE_SECONDS = 30.0
STOP_GRACE_SECONDS = 15.0  # the server's graceful shutdown allows 10 s
CLIENT_TIMEOUT_SECONDS = 300.0


# -- the client side: flows recorded through the server ---------------------------------------------


def identity(x: int) -> int:
    return x


noop = task(identity)


@flow
def sequential(n: int) -> BodyTiming:
    start = time.perf_counter()
    for i in range(n):
        noop(i)
    end = time.perf_counter()
    return end - start, end, runtime.flow_run.id


@flow
def leaf() -> None:
    pass


@flow
def parent(n: int) -> BodyTiming:
    start = time.perf_counter()
    for _ in range(n):
        leaf()
    end = time.perf_counter()
    return end - start, end, runtime.flow_run.id


# The baseline: the same lines, formatted and shown on the console the same way, but not shipped.
def _console_only_handler() -> logging.Handler:
    from headwater.logging.handlers import ConsoleFormatter, ConsoleHandler

    handler = ConsoleHandler()
    handler.setFormatter(ConsoleFormatter())
    return handler


null_logger = logging.getLogger("bench")
null_logger.addHandler(_console_only_handler())
null_logger.setLevel(logging.INFO)
null_logger.propagate = False


@task
def log_to_run(x: int) -> int:  # shown on the console and shipped to the server
    get_run_logger().info(LOG_MESSAGE, x, "run")
    return x


@task
def log_to_null(x: int) -> int:  # "null": not shipped
    null_logger.info(LOG_MESSAGE, x, "null")
    return x


LOGGING_TASKS = {"run_logger": log_to_run, "null_handler": log_to_null}


@flow
def logging_flow(n: int, variant: str) -> BodyTiming:
    work = LOGGING_TASKS[variant]
    start = time.perf_counter()
    for i in range(n):
        work(i)
    end = time.perf_counter()
    return end - start, end, runtime.flow_run.id


def api_post(client: httpx.Client, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(path, json=body)
    response.raise_for_status()
    rows: list[dict[str, Any]] = response.json()
    return rows


def count_log_lines(client: httpx.Client, flow_run_id: UUID) -> int:
    """The flow run's bench lines readable through the API, read page by page."""
    seen = offset = 0
    while True:
        page = api_post(client, "logs/filter", {"flow_run_id": [str(flow_run_id)], "limit": LOG_PAGE, "offset": offset})
        seen += sum(1 for line in page if line["message"].startswith("bench line") and line["task_run_id"])
        if len(page) < LOG_PAGE:
            return seen
        offset += LOG_PAGE


def measure_subflows(n: int) -> dict[str, Any]:
    from _common import count_completed_subflow_runs  # through the API: `HEADWATER_API_URL` is set

    start = time.perf_counter()
    body_seconds, body_end, flow_run_id = parent(n)
    returned = time.perf_counter()
    back = wait_until_readable(lambda: count_completed_subflow_runs(flow_run_id), n)
    return {
        "n": n,
        "per_subflow_body_ms": body_seconds / n * 1e3,
        "per_subflow_flow_call_ms": (returned - start) / n * 1e3,
        "final_flush_ms": (returned - body_end) * 1e3,
        "readable_after_return_ms": (back.readable_at - returned) * 1e3,
        "subflow_runs_completed": back.count,
    }


def measure_logging(client: httpx.Client, variant: str) -> dict[str, Any]:
    start = time.perf_counter()
    body_seconds, body_end, flow_run_id = logging_flow(LOG_LINES, variant)
    returned = time.perf_counter()
    result: dict[str, Any] = {
        "flow_call_s": returned - start,
        "body_s": body_seconds,
        "final_flush_ms": (returned - body_end) * 1e3,
    }
    if variant == "run_logger":
        back = wait_until_readable(lambda: count_log_lines(client, flow_run_id), LOG_LINES)
        result["lines_readable"] = back.count
        result["lines_readable_after_return_ms"] = (back.readable_at - returned) * 1e3
        result["lines_read_back_query_ms"] = back.query_seconds * 1e3
    return result


def slowdown_pct(slow: float, fast: float) -> float:
    return (slow / fast - 1) * 100


def client_main() -> None:
    api_url = os.environ["HEADWATER_API_URL"]
    start = time.perf_counter()
    sequential(10)  # the first flow call imports the engine and opens the connection: reported apart
    first_call_ms = (time.perf_counter() - start) * 1e3
    parent(1)
    logging_flow(10, "run_logger")  # sets up logging once, outside the measurements

    tasks = {}
    for n, repeats in SIZES.items():
        plain = per_call_us(identity, n)
        runs = [measure_flow(sequential, n, plain) for _ in range(repeats)]
        for r in runs:  # when the reader holds every run: the query's own time included
            r["read_back_done_after_return_ms"] = r["readable_after_return_ms"] + r["read_back_query_ms"]
        tasks[str(n)] = median_metrics(runs)

    subflows = median_metrics([measure_subflows(SUBFLOWS) for _ in range(SUBFLOW_REPEATS)])

    with httpx.Client(base_url=api_url + "/", timeout=60) as client:
        null = [measure_logging(client, "null_handler")]
        run: list[dict[str, Any]] = []
        for _ in range(LOG_COMPARISONS):
            run.append(measure_logging(client, "run_logger"))
            null.append(measure_logging(client, "null_handler"))
    logs: dict[str, Any] = {"run_logger": median_metrics(run), "null_handler": median_metrics(null)}
    by_comparison = {
        f"{part}_slowdown_by_comparison_pct": [
            slowdown_pct(r[key], (before[key] + after[key]) / 2)
            for r, before, after in zip(run, null, null[1:], strict=False)
        ]
        for part, key in (("flow_call", "flow_call_s"), ("body", "body_s"), ("final_flush", "final_flush_ms"))
    }
    logs["n"] = LOG_LINES
    logs["comparisons"] = LOG_COMPARISONS
    logs["slowdown_vs_null_handler_pct"] = statistics.median(by_comparison["flow_call_slowdown_by_comparison_pct"])
    logs["body_slowdown_pct"] = statistics.median(by_comparison["body_slowdown_by_comparison_pct"])
    logs["final_flush_slowdown_pct"] = statistics.median(by_comparison["final_flush_slowdown_by_comparison_pct"])
    logs.update(by_comparison)
    logs["lines_readable_min"] = min(r["lines_readable"] for r in run)
    print(json.dumps({"first_flow_call_ms": first_call_ms, "tasks": tasks, "subflows": subflows, "logs": logs}))


# -- the driver: the server, the client, the report ---------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def headwater_env(home: str, api_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HEADWATER_API_URL", "HEADWATER_DATABASE_URL")}
    env["HEADWATER_HOME"] = home
    if api_url:
        env["HEADWATER_API_URL"] = api_url
    return env


def wait_for_health(api_url: str, server: subprocess.Popen[bytes], log: Path) -> float:
    """Seconds until `GET /api/health` answers 200; exits if the server dies or the deadline passes."""
    start = time.perf_counter()
    deadline = start + HEALTH_DEADLINE_SECONDS
    with httpx.Client(timeout=2) as client:
        while True:
            if server.poll() is not None:
                fail(f"the server exited with status {server.returncode} before answering", log)
            try:
                if client.get(f"{api_url}/health").status_code == 200:
                    return time.perf_counter() - start
            except httpx.TransportError:
                pass
            if time.perf_counter() > deadline:
                fail(f"the server did not answer {api_url}/health within {HEALTH_DEADLINE_SECONDS:g} s", log)
            time.sleep(0.05)  # a polling step


def stop(server: subprocess.Popen[bytes]) -> dict[str, Any]:
    """SIGTERM, then SIGKILL if the server has not exited within the grace period."""
    if server.poll() is not None:
        return {"exit_status": server.returncode, "killed": False, "already_exited": True}
    start = time.perf_counter()
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(STOP_GRACE_SECONDS)
        killed = False
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        killed = True
    return {"exit_status": server.returncode, "killed": killed, "stop_s": time.perf_counter() - start}


def fail(message: str, log: Path | None = None, output: str = "") -> None:
    tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    raise SystemExit(f"bench_server: {message}\n{tail}{output[-3000:]}")


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run(server_home: str, client_home: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start the server, run the client against it, stop the server: (client figures, server facts)."""
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log = Path(server_home) / "server.log"
    command = [sys.executable, "-m", "headwater.cli", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=headwater_env(server_home, None), stdout=out, stderr=subprocess.STDOUT)
    try:
        startup_s = wait_for_health(api_url, server, log)
        try:
            done = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--client"],
                env=headwater_env(client_home, api_url),
                capture_output=True,
                text=True,
                timeout=CLIENT_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            fail(f"the client did not finish within {CLIENT_TIMEOUT_SECONDS:g} s", log)
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            fail(f"the client exited with status {done.returncode}", log, done.stderr)
        figures: dict[str, Any] = json.loads(lines[-1])
    finally:
        stopped = stop(server)
    server_facts = {"api_url": api_url, "startup_to_healthy_s": startup_s, "database": "SQLite", **stopped}
    return figures, server_facts


def main() -> None:
    load_at_start = load()
    server_home = tempfile.mkdtemp(prefix="headwater-bench-server-")
    client_home = tempfile.mkdtemp(prefix="headwater-bench-client-")
    try:
        figures, server_facts = run(server_home, client_home)
    finally:
        shutil.rmtree(server_home, ignore_errors=True)
        shutil.rmtree(client_home, ignore_errors=True)
    tasks, subflows, logs = figures["tasks"], figures["subflows"], figures["logs"]
    small, big = tasks["1000"], tasks["10000"]
    goals = [
        Goal("task via server (flow call / N, N=1,000, median of 3)", small["per_task_flow_call_us"], 150, "µs"),
        Goal("task via server (flow call / N, N=10,000)", big["per_task_flow_call_us"], 150, "µs"),
        Goal("10,000 task runs readable via API after return", big["readable_after_return_ms"], 500, "ms"),
        Goal("subflow via server (parent call / 200, median of 3)", subflows["per_subflow_flow_call_ms"], 2, "ms"),
        Goal("shipping 10,000 log lines: slowdown vs console only", logs["slowdown_vs_null_handler_pct"], 10, "%"),
        Goal("log lines readable via API after return", logs["lines_readable_min"], LOG_LINES, "lines", True),
    ]
    metrics = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1_5_15m_at_start": load_at_start,
            "load_average_1_5_15m_at_end": load(),
            "note": "the machine may be loaded by other work (e.g. colleagues' test runs); the server and the "
            "client share its CPUs, so figures are comparable only at similar load",
        },
        "server": server_facts,
        "first_flow_call_ms": figures["first_flow_call_ms"],
        "tasks_by_n": tasks,
        "subflows": subflows,
        "logs": logs,
    }
    report("server", metrics, goals)


if __name__ == "__main__":
    if sys.argv[1:] == ["--client"]:
        client_main()
    else:
        main()
