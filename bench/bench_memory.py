"""Peak memory of a flow of 10,000 trivial sequential tasks.

Peak resident set size (`ru_maxrss`) of this process after the flow returns, next to the baseline after
`import headwater` and the flow's definition, and the difference. Reading the runs back happens after
the peak is taken (it would add the reader's objects). Goal: < 150 MiB peak in total.
"""

from __future__ import annotations

import resource
import sys
from uuid import UUID

from _common import Goal, count_completed_task_runs, report

from headwater import flow, runtime, task

N = 10_000


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


@task
def noop(x: int) -> int:
    return x


@flow
def sequential(n: int) -> UUID:
    for i in range(n):
        noop(i)
    run_id: UUID = runtime.flow_run.id
    return run_id


def main() -> None:
    baseline = peak_rss_mib()
    flow_run_id = sequential(N)
    peak = peak_rss_mib()
    metrics = {
        "n": N,
        "baseline_after_imports_mib": baseline,
        "peak_mib": peak,
        "flow_delta_mib": peak - baseline,
        "task_runs_completed": count_completed_task_runs(flow_run_id, N),
    }
    report("memory", metrics, [Goal("peak RSS, 10,000-task flow (whole process)", peak, 150, "MiB")])


if __name__ == "__main__":
    main()
