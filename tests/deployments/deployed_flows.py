"""Flows the flow-of-deployments tests deploy. Workers import this file by its entrypoint
(`tests/deployments/deployed_flows.py:<function>`), so it must stay importable on its own."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from headwater import flow
from headwater.deployments import run_deployment


@flow(name="p3-add")
def add(x: int, y: int = 1) -> int:
    """The sum; the caller of `run_deployment` reads it back with `state.result()`."""
    return x + y


@flow(name="p3-greet")
def greet(name: str, times: int = 1) -> str:
    """A greeting, printed and returned."""
    text = " ".join([f"hello {name}"] * times)
    print(text)
    return text


@flow(name="p3-exit")
def exit_with(code: int = 3) -> None:
    """Ends its own process abruptly, as a segfault or `sys.exit` deep in a library would."""
    print("about to exit", flush=True)
    os._exit(code)


@flow(name="p3-sleeper")
def sleeper(marker: str, seconds: float = 60.0) -> str:
    """Writes its process id to `marker`, then sleeps."""
    Path(marker).write_text(str(os.getpid()))
    time.sleep(seconds)
    return "slept"


@flow(name="p3-calls-deployment")
def calls_deployment(child: str, parameters: dict[str, Any], marker: str | None = None) -> str:
    """Runs another deployment and waits for it; returns the child's final state type."""
    if marker:
        Path(marker).write_text(str(os.getpid()))
    child_run = run_deployment(child, parameters=parameters)
    return child_run.state.type.value


@flow(name="p3-with-subflow")
def with_subflow(marker: str, seconds: float = 60.0) -> str:
    """Calls `sleeper` as a subflow (in this process)."""
    return sleeper(marker, seconds)


@flow(name="p3-tick")
def tick(folder: str) -> str:
    """Leaves a file per run in `folder` (scheduled runs take no parameters of their own)."""
    path = Path(folder, f"{os.getpid()}-{time.time_ns()}")
    path.write_text("ran")
    return path.name


@flow(name="p3-fails-once")
def fails_once(marker: str) -> str:
    """Fails the first time (leaving `marker`), succeeds when run again."""
    if not Path(marker).exists():
        Path(marker).write_text("failed once")
        raise RuntimeError("first attempt fails")
    return "second attempt"
