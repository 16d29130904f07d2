"""`run_deployment` with a worker already polling: how soon the child runs, and the whole round trip.

Starts a real server (`headwater server start`, its own SQLite file) and a real process worker
(`headwater worker start --pool bench`), applies a deployment of a trivial flow, lets one warm-up run
go through, then calls `run_deployment` REPEATS times from a client process and reports, per call:

- call → child running: from just before the call until the child run's recorded `start_time` (the
  moment its process proposed RUNNING; same machine, same clock);
- round trip: from the call until `run_deployment` returned the finished run (its result read back).

Goals: the child is running within 0.5 s of the call at the median (no fixed polling interval in the
way: the worker long-polls, the server wakes it when the run is created); the round trip of a trivial
deployed flow is under 1 s.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _common import Goal, report
from bench_server import free_port, headwater_env, load, stop, wait_for_health

REPEATS = 10
CLIENT_TIMEOUT_SECONDS = 180

FLOW_FILE = textwrap.dedent(
    """
    from headwater import flow

    @flow
    def trivial(x: int = 1) -> int:
        return x * 2
    """
)


def client_main(flow_dir: str) -> None:
    """Apply the deployment, warm up, then time REPEATS calls; print one JSON object."""
    from headwater._wiring import call
    from headwater.deployments import Deployment, run_deployment
    from headwater.deployments.entrypoints import load_flow_from_entrypoint

    trivial = load_flow_from_entrypoint(flow_dir, "trivial_flow.py:trivial")
    Deployment.build_from_flow(trivial, "bench", work_pool_name="bench", path=flow_dir,
                               entrypoint="trivial_flow.py:trivial").apply()
    warm = run_deployment("trivial/bench", parameters={"x": 0}, timeout=120)
    if warm.state.type.value != "COMPLETED":
        raise SystemExit(f"warm-up run ended {warm.state!r}")
    to_running: list[float] = []
    round_trip: list[float] = []
    for i in range(REPEATS):
        called_at = datetime.now(UTC)
        start = time.perf_counter()
        run = run_deployment("trivial/bench", parameters={"x": i}, timeout=60)
        round_trip.append(time.perf_counter() - start)
        if run.state.result() != i * 2:
            raise SystemExit(f"run {run.id} returned {run.state.result()!r}, expected {i * 2}")
        stored = call(lambda o, run_id=run.id: o.read_flow_run(run_id))
        assert stored.start_time is not None
        to_running.append((stored.start_time - called_at).total_seconds())
    print(json.dumps({"to_running_s": to_running, "round_trip_s": round_trip}))


def main() -> None:
    load_at_start = load()
    server_home = tempfile.mkdtemp(prefix="headwater-bench-deploy-server-")
    client_home = tempfile.mkdtemp(prefix="headwater-bench-deploy-client-")
    flow_dir = tempfile.mkdtemp(prefix="headwater-bench-deploy-flow-")
    (Path(flow_dir) / "trivial_flow.py").write_text(FLOW_FILE)
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log = Path(server_home) / "server.log"
    worker_log = Path(server_home) / "worker.log"
    server_cmd = [sys.executable, "-m", "headwater.cli", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    worker_cmd = [sys.executable, "-m", "headwater.cli", "worker", "start", "--pool", "bench"]
    worker: subprocess.Popen[bytes] | None = None
    try:
        with log.open("wb") as out:
            server = subprocess.Popen(server_cmd, env=headwater_env(server_home, None), stdout=out,
                                      stderr=subprocess.STDOUT)
        try:
            wait_for_health(api_url, server, log)
            # Worker and client share one HEADWATER_HOME: results persist under it, where both can read them.
            with worker_log.open("wb") as out:
                worker = subprocess.Popen(worker_cmd, env=headwater_env(client_home, api_url), stdout=out,
                                          stderr=subprocess.STDOUT, cwd=flow_dir)
            done = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--client", flow_dir],
                env=headwater_env(client_home, api_url), capture_output=True, text=True,
                timeout=CLIENT_TIMEOUT_SECONDS,
            )
            lines = done.stdout.strip().splitlines()
            if done.returncode != 0 or not lines:
                tail = worker_log.read_text(errors="replace")[-2000:]
                raise SystemExit(f"bench_deployments: client exited {done.returncode}\n{done.stderr[-3000:]}\n{tail}")
            figures: dict[str, Any] = json.loads(lines[-1])
        finally:
            if worker is not None:
                stop(worker)
            stop(server)
    finally:
        for folder in (server_home, client_home, flow_dir):
            shutil.rmtree(folder, ignore_errors=True)
    to_running, round_trip = figures["to_running_s"], figures["round_trip_s"]
    metrics = {
        "repeats": REPEATS,
        "to_running_median_s": statistics.median(to_running),
        "to_running_max_s": max(to_running),
        "round_trip_median_s": statistics.median(round_trip),
        "round_trip_max_s": max(round_trip),
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": load_at_start, "load_average_at_end": load()},
    }
    goals = [
        Goal("run_deployment: call → child running (median)", metrics["to_running_median_s"] * 1000, 500, "ms"),
        Goal("run_deployment: round trip of a trivial flow (median)", metrics["round_trip_median_s"] * 1000,
             1000, "ms"),
    ]
    report("deployments", metrics, goals)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--client"]:
        client_main(sys.argv[2])
    else:
        main()
