"""Per-task overhead of a flow of trivial sequential tasks, and how soon the store holds every run.

For N = 1,000 (median of 3) and 10,000: microseconds per task inside the flow body and over the whole
flow call, the same loop of plain function calls, the final flush (the flow's return minus its body's
end) and the time from the body's end until every task run reads back COMPLETED.
Goals: < 100 µs per recorded task (whole flow call / N); all 10,000 readable within 0.5 s of the body's end.
"""

from __future__ import annotations

import time

from _common import BodyTiming, Goal, measure_flow, median_metrics, per_call_us, report

from headwater import flow, runtime, task

SIZES = {1_000: 3, 10_000: 1}  # N: repeats


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


def main() -> None:
    start = time.perf_counter()
    sequential(10)  # opens (and on first use creates) the store: a one-off cost, reported apart
    first_call_ms = (time.perf_counter() - start) * 1e3
    results = {}
    for n, repeats in SIZES.items():
        plain = per_call_us(identity, n)
        results[str(n)] = median_metrics([measure_flow(sequential, n, plain) for _ in range(repeats)])
    big = results["10000"]
    report(
        "tasks",
        {"first_flow_call_ms": first_call_ms, "by_n": results},
        [
            Goal("sequential task, recorded (flow call / N, N=10,000)", big["per_task_flow_call_us"], 100, "µs"),
            Goal("10,000 task runs readable after the body ends", big["readable_after_body_end_ms"], 500, "ms"),
        ],
    )


if __name__ == "__main__":
    main()
