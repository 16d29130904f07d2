"""Cost of a subflow call: a flow calling a trivial subflow N times (N = 200 and 1,000).

Each call is a first-class child run (a flow run linked to its parent through a task run), so the
figure covers creating, running and recording both. After the parent returns, every child must read
back as a COMPLETED child of the parent. Goal: < 2 ms per subflow call (parent flow call / N).
"""

from __future__ import annotations

import time
from typing import Any

from _common import BodyTiming, Goal, count_completed_subflow_runs, report, wait_until_readable

from headwater import flow, runtime

SIZES = (200, 1_000)


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


def measure(n: int) -> dict[str, Any]:
    start = time.perf_counter()
    body_seconds, body_end, flow_run_id = parent(n)
    returned = time.perf_counter()
    back = wait_until_readable(lambda: count_completed_subflow_runs(flow_run_id), n)
    return {
        "n": n,
        "per_subflow_body_ms": body_seconds / n * 1e3,
        "per_subflow_flow_call_ms": (returned - start) / n * 1e3,
        "final_flush_ms": (returned - body_end) * 1e3,
        "readable_after_body_end_ms": (back.readable_at - body_end) * 1e3,
        "subflow_runs_completed": back.count,
    }


def main() -> None:
    parent(1)  # opens (and creates) the store once, outside the measurements
    results = {str(n): measure(n) for n in SIZES}
    goals = [
        Goal(f"subflow call (parent flow call / N, N={n:,})", results[str(n)]["per_subflow_flow_call_ms"], 2, "ms")
        for n in SIZES
    ]
    report("subflows", {"by_n": results}, goals)


if __name__ == "__main__":
    main()
