"""Start-up: `import headwater` in a fresh interpreter, and the first flow run of a fresh process.

- import: the median wall time of `python -c "import headwater"` minus that of `python -c "pass"` (5 runs
  each), with `python -X importtime`'s cumulative figure for `headwater` next to it. Goal: < 150 ms.
- first flow run: the wall time from starting a process until a marker printed inside its first flow's
  body reaches this one (median of 5), against a store that exists and against a fresh one (a new
  `HEADWATER_HOME` each run). Goal: < 300 ms for each.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import Goal, report

RUNS = 5
MARKER = "HEADWATER-BENCH-IN-BODY"
FIRST_FLOW = f"""
from headwater import flow

@flow
def hello() -> None:
    print({MARKER!r}, flush=True)

hello()
"""


def wall_ms(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return (time.perf_counter() - start) * 1e3


def importtime_ms() -> float:
    """`-X importtime`'s cumulative microseconds for the `headwater` package, in ms."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import headwater"], check=True, capture_output=True, text=True
    )
    for line in done.stderr.splitlines():
        _, _, fields = line.partition("import time:")
        parts = [p.strip() for p in fields.split("|")]
        if len(parts) == 3 and parts[2] == "headwater":
            return int(parts[1]) / 1e3
    raise RuntimeError(f"no `headwater` line in -X importtime output:\n{done.stderr[-2000:]}")


def first_flow_ms(home: Path) -> tuple[float, float]:
    """(ms until the body's marker arrives, ms until the process exits) for one fresh process."""
    env = {**os.environ, "HEADWATER_HOME": str(home)}
    start = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-c", FIRST_FLOW], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == MARKER:
                in_body = time.perf_counter()
                break
        else:
            raise RuntimeError(f"the flow's body never ran (exit status {proc.wait()})")
        proc.stdout.read()
        if proc.wait() != 0:
            raise RuntimeError(f"the first-flow process exited with status {proc.returncode}")
    return (in_body - start) * 1e3, (time.perf_counter() - start) * 1e3


def first_flow(fresh_store: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="headwater-bench-") as shared:
        if not fresh_store:
            first_flow_ms(Path(shared))  # creates the store the measured runs find
        timings = []
        for _ in range(RUNS):
            with tempfile.TemporaryDirectory(prefix="headwater-bench-") as own:
                timings.append(first_flow_ms(Path(own if fresh_store else shared)))
    return {
        "to_body_ms": statistics.median(t[0] for t in timings),
        "to_exit_ms": statistics.median(t[1] for t in timings),
    }


def main() -> None:
    bare = statistics.median(wall_ms("pass") for _ in range(RUNS))
    with_import = statistics.median(wall_ms("import headwater") for _ in range(RUNS))
    import_ms = with_import - bare
    existing, fresh = first_flow(fresh_store=False), first_flow(fresh_store=True)
    metrics = {
        "interpreter_start_ms": bare,
        "import_headwater_ms": import_ms,
        "importtime_cumulative_ms": statistics.median(importtime_ms() for _ in range(RUNS)),
        "first_flow_existing_store": existing,
        "first_flow_fresh_store": fresh,
    }
    report(
        "import",
        metrics,
        [
            Goal("import headwater (fresh interpreter)", import_ms, 150, "ms"),
            Goal("process start to first flow body, existing store", existing["to_body_ms"], 300, "ms"),
            Goal("process start to first flow body, fresh store", fresh["to_body_ms"], 300, "ms"),
        ],
    )


if __name__ == "__main__":
    main()
