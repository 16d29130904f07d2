"""Tasks for `ProcessPoolTaskRunner` tests. They live at module level in an importable module, so the
worker processes can unpickle them."""

from __future__ import annotations

import os

from headwater import get_run_logger, task
from headwater.runtime import flow_run, task_run


@task
def square(x: int) -> int:
    return x * x


@task
def whoami() -> int:
    return os.getpid()


@task
def runtime_facts() -> dict[str, object]:
    return {"flow_run_id": flow_run.id, "task_run_id": task_run.id, "name": task_run.name}


@task
def log_from_worker(message: str) -> int:
    get_run_logger().info(message)
    return os.getpid()


@task
def fail_in_worker(message: str) -> None:
    raise ValueError(message)


@task(retries=1)
def fail_first_attempt(marker: str) -> int:
    """Fails on the first attempt (no marker file yet), succeeds on the retry."""
    if not os.path.exists(marker):
        with open(marker, "w") as f:
            f.write("attempted")
        raise RuntimeError("first attempt fails")
    return task_run.run_count


@task
def total(values: list[int]) -> int:
    return sum(values)
