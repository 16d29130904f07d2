"""Headwater next to Prefect 3 on this machine, in the same run (only with `BENCH_PREFECT=1`).

Creates `bench/.venv-prefect` with `pip install prefect` when it is missing, then runs
`prefect_loop.py` (N = 200 task calls and subflow calls in a flow) under Prefect there and under
Headwater here, each in a fresh process with a fresh home, and times `import` of each. If Prefect
cannot be installed or run, the benchmark reports "unavailable" instead of figures.
Goals (design §7): Headwater's per-task overhead at least 10x below Prefect's; its import well under
(read here as at least 2x faster). Expect several minutes: the install, Prefect's temporary server, and
Prefect's subflow calls (about a second each on a 2-core machine) dominate.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import Goal, report

HERE = Path(__file__).resolve().parent
PREFECT_VENV = HERE / ".venv-prefect"
PREFECT_PYTHON = PREFECT_VENV / "bin" / "python"
N = 200


class Unavailable(Exception):
    """Prefect could not be installed or run here."""


def ensure_prefect() -> None:
    if PREFECT_PYTHON.exists():
        return
    try:
        subprocess.run([sys.executable, "-m", "venv", str(PREFECT_VENV)], check=True, capture_output=True)
        subprocess.run(
            [str(PREFECT_PYTHON), "-m", "pip", "install", "-q", "prefect"],
            check=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", None) or exc
        raise Unavailable(f"could not install prefect into {PREFECT_VENV}: {str(detail)[-500:]}") from exc


def run_loop(python: Path | str, engine: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), str(HERE / "prefect_loop.py"), engine, str(N)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if done.returncode != 0:
        raise Unavailable(f"{engine} loop failed (exit {done.returncode}): {done.stderr[-800:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def import_ms(python: Path | str, module: str) -> float:
    def wall(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([str(python), "-c", code], check=True, capture_output=True)
        return time.perf_counter() - start

    bare = statistics.median(wall("pass") for _ in range(3))
    return (statistics.median(wall(f"import {module}") for _ in range(3)) - bare) * 1e3


def prefect_env(home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=home, PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    return env


def main() -> None:
    try:
        ensure_prefect()
        headwater = run_loop(sys.executable, "headwater", dict(os.environ))
        with tempfile.TemporaryDirectory(prefix="prefect-bench-") as home:
            prefect = run_loop(PREFECT_PYTHON, "prefect", prefect_env(home))
    except Unavailable as exc:
        report("prefect", {"status": "unavailable", "reason": str(exc)})
        return
    imports = {"headwater": import_ms(sys.executable, "headwater"), "prefect": import_ms(PREFECT_PYTHON, "prefect")}
    task_ratio = prefect["per_task_flow_call_us"] / headwater["per_task_flow_call_us"]
    subflow_ratio = prefect["per_subflow_flow_call_ms"] / headwater["per_subflow_flow_call_ms"]
    metrics = {
        "status": "measured",
        "headwater": headwater,
        "prefect": prefect,
        "import_ms": imports,
        "prefect_to_headwater_task_ratio": task_ratio,
        "prefect_to_headwater_subflow_ratio": subflow_ratio,
    }
    report(
        "prefect",
        metrics,
        [
            Goal("Prefect / Headwater per-task overhead (N=200)", task_ratio, 10, "x", higher_is_better=True),
            Goal(
                "Prefect / Headwater import time",
                imports["prefect"] / imports["headwater"],
                2,
                "x",
                higher_is_better=True,
            ),
        ],
    )


if __name__ == "__main__":
    main()
