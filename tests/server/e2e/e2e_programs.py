"""Flows the end-to-end tests run in their own processes: `python e2e_programs.py <name> [args]`.

- `steps N [SLEEP]`: one flow run of N tasks, each logging `step <i>` and sleeping SLEEP seconds
  (default 0.002); prints `progress <i>` every 100 tasks (flushed), and `total <sum>` at the end.
- `sleepy SECONDS`: a flow whose one task logs `sleeping`, prints `started <flow run id>` and sleeps.
- `tiny`: a flow run with one task.
- `tiny-twice`: `tiny`, then once the background writer is replaying the journal (its claim on a
  journal file shows), `tiny` again; prints `second done`.
- `stray`: records a log line outside any flow run and exits once the background writer holds it
  (sending it, unsuccessfully when the server is down); prints `holding`.
"""

from __future__ import annotations

import os
import sys
import time

from headwater import flow, get_run_logger, task
from headwater.runtime import flow_run


@task
def step(i: int, pause: float) -> int:
    get_run_logger().info("step %d", i)
    time.sleep(pause)
    return i


@flow(name="steps")
def steps(n: int, pause: float = 0.002) -> int:
    total = 0
    for i in range(n):
        total += step(i, pause)
        if i % 100 == 0:
            print(f"progress {i}", flush=True)
    print(f"total {total}", flush=True)
    return total


@task
def nap(seconds: float) -> None:
    get_run_logger().info("sleeping")
    print(f"started {flow_run.id}", flush=True)
    time.sleep(seconds)


@flow(name="sleepy")
def sleepy(seconds: float) -> None:
    nap(seconds)


@task
def one() -> int:
    return 1


@flow(name="tiny")
def tiny() -> int:
    print(f"run {flow_run.id}", flush=True)
    return one()


def tiny_twice() -> None:
    from headwater.settings import get_settings

    tiny()
    journal = get_settings().journal_path
    deadline = time.monotonic() + 30
    while not list(journal.rglob(f"*.claimed-{os.getpid()}")):
        if time.monotonic() > deadline:
            sys.exit("the background writer never claimed a journal file")
        time.sleep(0.01)
    tiny()
    print("second done", flush=True)


def stray() -> None:
    from headwater.engine.recorder import get_recorder

    recorder = get_recorder()
    recorder.log("stray", 20, "a stray line", time.time(), None, None)
    deadline = time.monotonic() + 30
    while not recorder._holding:  # white-box: the writer took it from the buffer and is sending it
        if time.monotonic() > deadline:
            sys.exit("the background writer never took the line")
        time.sleep(0.005)
    print("holding", flush=True)


if __name__ == "__main__":
    name, args = sys.argv[1], sys.argv[2:]
    if name == "steps":
        steps(int(args[0]), float(args[1]) if len(args) > 1 else 0.002)
    elif name == "sleepy":
        sleepy(float(args[0]))
    elif name == "tiny":
        tiny()
    elif name == "tiny-twice":
        tiny_twice()
    elif name == "stray":
        stray()
    else:
        sys.exit(f"unknown program {name!r}")
