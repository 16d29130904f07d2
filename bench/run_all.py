"""Run every benchmark, each in a fresh process with a fresh `HEADWATER_HOME`, and report.

    make bench                      # = .venv/bin/python bench/run_all.py
    BENCH_PREFECT=1 make bench      # also compare with Prefect 3 (installs it into bench/.venv-prefect)

Prints the combined JSON report, then a table of goals (target, measured, pass/fail), and writes the
report to `bench/results/latest.json`. Benchmarks measure the embedded default store, so
`HEADWATER_API_URL` and `HEADWATER_DATABASE_URL` are cleared for them (`bench_server.py` starts its
own local server and points its client at it). A missed goal is reported, not an error: the exit
status is 1 only when a benchmark crashed.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "latest.json"
BENCHMARKS = [
    "bench_tasks.py",
    "bench_submit_map.py",
    "bench_subflows.py",
    "bench_import.py",
    "bench_memory.py",
    "bench_server.py",
    "bench_deployments.py",
]
TIMEOUT_SECONDS = 600


def run_benchmark(script: str) -> dict[str, Any]:
    """Run one benchmark script in a fresh process and home; its JSON, or an `error` entry."""
    home = tempfile.mkdtemp(prefix="headwater-bench-")
    env = {k: v for k, v in os.environ.items() if k not in ("HEADWATER_API_URL", "HEADWATER_DATABASE_URL")}
    env["HEADWATER_HOME"] = home
    load = os.getloadavg()[0]  # other work on the machine skews the figures: keep it with them
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, str(HERE / script)], capture_output=True, text=True, env=env, timeout=TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        return {"benchmark": script, "error": f"timed out after {TIMEOUT_SECONDS} s"}
    finally:
        shutil.rmtree(home, ignore_errors=True)
    seconds = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"benchmark": script, "error": f"exit status {done.returncode}", "stderr": done.stderr[-3000:]}
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"benchmark": script, "error": "no JSON on the last line of stdout", "stdout": done.stdout[-3000:]}
    result["seconds"] = round(seconds, 2)
    result["load_average_1m_at_start"] = load
    return result


def machine() -> dict[str, Any]:
    from headwater import __version__

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
        "headwater": __version__,
    }


def table(results: list[dict[str, Any]]) -> str:
    rows = [("benchmark", "goal", "target", "measured", "result")]
    for result in results:
        if "error" in result:
            rows.append((result["benchmark"], "CRASHED: " + result["error"], "", "", "FAIL"))
            continue
        if result.get("metrics", {}).get("status") == "unavailable":
            rows.append((result["benchmark"], "unavailable: " + result["metrics"]["reason"][:60], "", "", "-"))
        for goal in result["goals"]:
            rows.append(
                (
                    result["benchmark"],
                    goal["name"],
                    f"{goal['target']} {goal['unit']}",
                    f"{goal['measured']:,.2f} {goal['unit']}",
                    "pass" if goal["passed"] else "MISS",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    scripts = [*BENCHMARKS, *(["bench_prefect.py"] if os.environ.get("BENCH_PREFECT") == "1" else [])]
    started = datetime.now(UTC)
    results = []
    for script in scripts:
        print(f"running {script} ...", file=sys.stderr, flush=True)
        results.append(run_benchmark(script))
    goals = [goal for result in results for goal in result.get("goals", [])]
    crashed = [result["benchmark"] for result in results if "error" in result]
    report = {
        "started": started.isoformat(),
        "machine": machine(),
        "results": results,
        "summary": {"goals": len(goals), "passed": sum(g["passed"] for g in goals), "crashed": crashed},
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print()
    print(table(results))
    met = sum(g["passed"] for g in goals)
    print(f"\n{met}/{len(goals)} goals met; report written to {RESULTS.relative_to(HERE.parent)}")
    for result in results:
        if "error" in result:
            print(f"\n{result['benchmark']} crashed ({result['error']}):\n{result.get('stderr', '')}", file=sys.stderr)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
