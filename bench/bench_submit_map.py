"""Per-task overhead of submitted and mapped task runs, and how soon the store holds every run.

Two flows of N trivial tasks, N = 1,000 and 10,000: one submits each run (`noop.submit(i)`) and then
waits for every `.result()`, the other maps (`noop.map(range(n)).result()`). Figures as in
`bench_tasks.py`, next to two baselines: plain calls, and the same work handed to a bare
`ThreadPoolExecutor` of the default runner's size (64 threads).
Goals: < 100 µs per recorded task (whole flow call / N); all runs readable within 0.5 s of the body's end.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _common import BodyTiming, Goal, measure_flow, per_call_us, report

from headwater import flow, runtime, task

SIZES = (1_000, 10_000)
POOL_SIZE = 64  # ThreadPoolTaskRunner's default


def identity(x: int) -> int:
    return x


noop = task(identity)


@flow
def submitted(n: int) -> BodyTiming:
    start = time.perf_counter()
    futures = [noop.submit(i) for i in range(n)]
    for future in futures:
        future.result()
    end = time.perf_counter()
    return end - start, end, runtime.flow_run.id


@flow
def mapped(n: int) -> BodyTiming:
    start = time.perf_counter()
    noop.map(range(n)).result()
    end = time.perf_counter()
    return end - start, end, runtime.flow_run.id


def thread_pool_us(n: int) -> float:
    """Microseconds per call when a bare thread pool runs the same function (no recording)."""
    start = time.perf_counter()
    with ThreadPoolExecutor(POOL_SIZE) as pool:
        for future in [pool.submit(identity, i) for i in range(n)]:
            future.result()
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    submitted(10)  # opens (and creates) the store once, outside the measurements
    results: dict[str, dict[str, dict[str, Any]]] = {"submit": {}, "map": {}}
    for n in SIZES:
        plain, pooled = per_call_us(identity, n), thread_pool_us(n)
        for kind, run in (("submit", submitted), ("map", mapped)):
            figures = measure_flow(run, n, plain)
            figures["thread_pool_us"] = pooled
            figures["body_to_thread_pool_ratio"] = figures["per_task_body_us"] / pooled
            results[kind][str(n)] = figures
    goals = []
    for kind in ("submit", "map"):
        big = results[kind]["10000"]
        goals += [
            Goal(f".{kind}() task, recorded (flow call / N, N=10,000)", big["per_task_flow_call_us"], 100, "µs"),
            Goal(
                f".{kind}(): 10,000 task runs readable after the body ends",
                big["readable_after_body_end_ms"],
                500,
                "ms",
            ),
        ]
    report("submit_map", results, goals)


if __name__ == "__main__":
    main()
