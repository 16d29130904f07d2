"""A flow process for the concurrency test: `python sdk_concurrent_flows.py <worker> <flows> <tasks> <gate>`
waits for the file `<gate>` to exist (so all workers start at once), then runs `<flows>` flows of
`<tasks>` tasks each, and prints one line per finished flow run: `<flow run id> <state type>`."""

from __future__ import annotations

import os
import sys
import time

from headwater import flow, get_run_logger, task
from headwater.runtime import flow_run


@task
def work(worker: int, i: int) -> int:
    get_run_logger().info("worker %d task %d", worker, i)
    return i


@flow
def concurrent_flow(worker: int, tasks: int) -> int:
    half = tasks // 2
    direct = [work(worker, i) for i in range(half)]
    submitted = work.map(worker, range(half, tasks)).result()
    get_run_logger().info("worker %d flow %s done", worker, flow_run.id)
    return sum(direct) + sum(submitted)


def main() -> None:
    worker, flows, tasks, gate = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    deadline = time.monotonic() + 60
    while not os.path.exists(gate):
        if time.monotonic() > deadline:
            sys.exit("the gate never opened")
        time.sleep(0.01)
    for _ in range(flows):
        state = concurrent_flow(worker, tasks, return_state=True)
        print(state.result() if state.is_completed() else state.message, flush=True)


if __name__ == "__main__":
    main()
