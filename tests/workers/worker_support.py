"""What the worker tests share: a file of flows to deploy, deployments applied through the orchestrator,
worker processes (`headwater worker start`), and polling with a deadline.

(A module of its own, not `conftest.py`, so test modules can import its names.)
"""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from headwater._wiring import call
from headwater.core.states import is_terminal
from headwater.schemas.deployments import Deployment, DeploymentCreate, DeploymentFlowRunCreate
from headwater.schemas.objects import FlowRun
from process_support import Worker, wait_for
from process_support import process_alive as process_alive  # re-exported for the worker tests

T = TypeVar("T")

FLOWS = textwrap.dedent(
    '''
    """Flows the worker tests deploy."""
    import os
    import pathlib
    import time

    from headwater import flow


    @flow(name="greet")
    def greet(name: str = "world") -> str:
        print(f"hello {name} from {os.getcwd()}")
        return f"hello {name}"


    @flow(name="exits")
    def exits(code: int = 3) -> None:
        print("about to exit", flush=True)
        os._exit(code)


    @flow(name="sleeper")
    def sleeper(marker: str, seconds: float = 60.0) -> str:
        """Writes its pid to `marker`, then sleeps."""
        pathlib.Path(marker).write_text(str(os.getpid()))
        time.sleep(seconds)
        return "slept"


    @flow(name="span")
    def span(folder: str, seconds: float = 1.0) -> None:
        """Records when it ran: `<folder>/<pid>` holds its start and end times."""
        start = time.time()
        time.sleep(seconds)
        pathlib.Path(folder, str(os.getpid())).write_text(f"{start} {time.time()}")
    '''
)

FLOW_NAMES = {"greet": "greet", "exits": "exits", "sleeper": "sleeper", "span": "span"}

PARAMETER_SCHEMAS: dict[str, dict[str, Any]] = {
    "greet": {"type": "object", "properties": {"name": {"type": "string"}}},
    "exits": {"type": "object", "properties": {"code": {"type": "integer"}}},
    "sleeper": {
        "type": "object",
        "properties": {"marker": {"type": "string"}, "seconds": {"type": "number"}},
        "required": ["marker"],
    },
    "span": {
        "type": "object",
        "properties": {"folder": {"type": "string"}, "seconds": {"type": "number"}},
        "required": ["folder"],
    },
}


def unique(prefix: str) -> str:
    """A name no other test uses (tests of a module share one server)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def write_flows(folder: Path) -> Path:
    """Write the flows file into `folder` (created) and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flows.py").write_text(FLOWS)
    return folder


def deploy(
    folder: Path,
    function: str,
    *,
    pool: str,
    name: str = "test",
    queue: str | None = None,
    parameters: dict[str, Any] | None = None,
    concurrency_limit: int | None = None,
) -> Deployment:
    """Apply a deployment of one of the flows in `FLOWS`, written into `folder`."""
    write_flows(folder)
    create = DeploymentCreate(
        name=name,
        flow_name=FLOW_NAMES[function],
        entrypoint=f"flows.py:{function}",
        path=str(folder),
        parameters=parameters or {},
        parameter_openapi_schema=PARAMETER_SCHEMAS[function],
        work_pool_name=pool,
        work_queue_name=queue,
        concurrency_limit=concurrency_limit,
    )
    return call(lambda o: o.apply_deployment(create)).deployment


def create_run(deployment: Deployment, **parameters: Any) -> FlowRun:
    """A run of the deployment, due now."""
    request = DeploymentFlowRunCreate(parameters=parameters)
    return call(lambda o: o.create_flow_run_from_deployment(deployment.id, request))


def read_run(run_id: UUID) -> FlowRun:
    """The run as stored now."""
    return call(lambda o: o.read_flow_run(run_id))





def final_run(run_id: UUID, *, timeout: float = 45.0) -> FlowRun:
    """The run once it is in a final state."""

    def finished() -> FlowRun | None:
        run = read_run(run_id)
        return run if is_terminal(run.state_type) else None

    return wait_for(finished, what=f"flow run {run_id} to finish", timeout=timeout)


def started_pid(marker: Path, *, timeout: float = 45.0) -> int:
    """The pid a `sleeper` run wrote into `marker`, once it is there."""

    def written() -> str | None:
        text = marker.read_text() if marker.exists() else ""
        return text or None

    return int(wait_for(written, what=f"the flow to write {marker}", timeout=timeout))


WorkerProcess = Worker
"""`headwater worker start --pool POOL …` in a child process (a context manager that stops it)."""
