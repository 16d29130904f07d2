"""A flow process for the signal tests: `python sdk_signal_flow.py <where>` runs a flow that blocks
for a minute, in the flow body (`flow`), in a task on the main thread (`task`) or in a submitted task
(`submitted`), until a signal ends it."""

from __future__ import annotations

import sys
import time

from headwater import flow, get_run_logger, task

BLOCK_SECONDS = 60.0


def block() -> None:
    deadline = time.monotonic() + BLOCK_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.02)


@task
def blocking_task() -> None:
    get_run_logger().info("task started")
    block()


@flow
def signalled(where: str) -> None:
    get_run_logger().info("flow started")
    if where == "flow":
        block()
    elif where == "task":
        blocking_task()
    else:
        blocking_task.submit().result()


if __name__ == "__main__":
    signalled(sys.argv[1])
