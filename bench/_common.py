"""What every benchmark shares: goals, the JSON it prints, and reading runs back from the store.

Each benchmark is a script run by `run_all.py` in a fresh process with a fresh `HEADWATER_HOME`; it
prints exactly one JSON object on stdout (console logs go to stderr):

    {"benchmark": "tasks", "metrics": {...}, "goals": [{"name": ..., "measured": ..., ...}]}
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from headwater.core.states import StateType


@dataclass(frozen=True)
class Goal:
    """One target from the design, and what this machine measured against it."""

    name: str
    measured: float
    target: float
    unit: str
    higher_is_better: bool = False

    @property
    def passed(self) -> bool:
        return self.measured >= self.target if self.higher_is_better else self.measured < self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": round(self.measured, 3),
            "target": f"{'>=' if self.higher_is_better else '<'} {self.target:g}",
            "unit": self.unit,
            "passed": self.passed,
        }


def report(benchmark: str, metrics: dict[str, Any], goals: Sequence[Goal] = ()) -> None:
    """Print the benchmark's one JSON object."""
    print(json.dumps({"benchmark": benchmark, "metrics": metrics, "goals": [g.as_dict() for g in goals]}))


def median_metrics(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The median of each numeric metric over repeated runs (other values from the first run)."""
    merged = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            merged[key] = statistics.median(run[key] for run in runs)
    merged["repeats"] = len(runs)
    return merged


def per_call_us(fn: Callable[[int], Any], n: int) -> float:
    """Microseconds per call of `fn` over a loop of `n` plain calls: the baseline an engine adds to."""
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n * 1e6


def count_completed_task_runs(flow_run_id: UUID, limit: int) -> int:
    """How many task runs of a flow run the store holds as COMPLETED (read through the orchestrator)."""
    from headwater._wiring import call
    from headwater.schemas.filters import TaskRunFilter

    query = TaskRunFilter(flow_run_id=[flow_run_id], state_type=[StateType.COMPLETED], limit=limit)
    return len(call(lambda o: o.read_task_runs(query)))


def count_completed_subflow_runs(parent_flow_run_id: UUID) -> int:
    """How many flow runs the store holds as COMPLETED children of a flow run."""
    from headwater._wiring import call
    from headwater.schemas.filters import FlowRunFilter

    query = FlowRunFilter(parent_flow_run_id=parent_flow_run_id, state_type=[StateType.COMPLETED])
    return call(lambda o: o.count_flow_runs(query))


@dataclass(frozen=True)
class ReadBack:
    """When the store first answered with everything a run recorded."""

    readable_at: float
    """`time.perf_counter()` when the first query that saw every record started."""
    query_seconds: float
    """How long that query took."""
    count: int
    queries: int


def wait_until_readable(count: Callable[[], int], expected: int, timeout: float = 30.0) -> ReadBack:
    """Query until `count()` reaches `expected` (or `timeout` passes; the last answer is returned)."""
    deadline = time.perf_counter() + timeout
    queries = 0
    while True:
        started = time.perf_counter()
        seen = count()
        queries += 1
        ended = time.perf_counter()
        if seen >= expected or ended > deadline:
            return ReadBack(started, ended - started, seen, queries)
        time.sleep(0.005)  # a polling step, not a wait for a guessed duration


BodyTiming = tuple[float, float, UUID]
"""What a benchmark flow returns: its body's duration, `perf_counter()` at the body's end, its run id."""


def measure_flow(run: Callable[[int], BodyTiming], n: int, plain_us: float) -> dict[str, Any]:
    """Call a benchmark flow of `n` task runs and time it from the inside, the outside and the store."""
    start = time.perf_counter()
    body_seconds, body_end, flow_run_id = run(n)
    returned = time.perf_counter()
    back = wait_until_readable(lambda: count_completed_task_runs(flow_run_id, n), n)
    body_us = body_seconds / n * 1e6
    return {
        "n": n,
        "per_task_body_us": body_us,
        "per_task_flow_call_us": (returned - start) / n * 1e6,
        "plain_call_us": plain_us,
        "body_to_plain_ratio": body_us / plain_us,
        "flow_call_to_plain_ratio": (returned - start) / n * 1e6 / plain_us,
        "final_flush_ms": (returned - body_end) * 1e3,
        "readable_after_body_end_ms": (back.readable_at - body_end) * 1e3,
        "readable_after_return_ms": (back.readable_at - returned) * 1e3,
        "read_back_query_ms": back.query_seconds * 1e3,
        "task_runs_completed": back.count,
        "read_back_queries": back.queries,
    }
