"""The task and subflow loops of the Prefect comparison, runnable on either engine.

    python prefect_loop.py headwater 200      # in Headwater's venv
    python prefect_loop.py prefect 200        # in bench/.venv-prefect

Both engines take the same user code (`flow`, `task`, task calls and subflow calls inside a flow), so
this one script is the like-for-like workload. Prints one JSON object of per-call figures.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable
from typing import Any

engine, n = sys.argv[1], int(sys.argv[2])
sdk: Any = importlib.import_module(engine)
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
flow: Decorator = sdk.flow
task: Decorator = sdk.task


@task
def noop(x: int) -> int:
    return x


@flow
def leaf() -> None:
    pass


@flow
def tasks_loop(n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        noop(i)
    return time.perf_counter() - start


@flow
def subflows_loop(n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        leaf()
    return time.perf_counter() - start


def timed(run: Callable[[int], float]) -> tuple[float, float]:
    start = time.perf_counter()
    body = run(n)
    return body, time.perf_counter() - start


if __name__ == "__main__":
    tasks_loop(5)  # starts whatever the engine needs (a store, a temporary server) outside the figures
    task_body, task_call = timed(tasks_loop)
    subflow_body, subflow_call = timed(subflows_loop)
    print(
        json.dumps(
            {
                "engine": engine,
                "version": sdk.__version__,
                "n": n,
                "per_task_body_us": task_body / n * 1e6,
                "per_task_flow_call_us": task_call / n * 1e6,
                "per_subflow_body_ms": subflow_body / n * 1e3,
                "per_subflow_flow_call_ms": subflow_call / n * 1e3,
            }
        )
    )
