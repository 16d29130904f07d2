"""`python -m headwater.engine.execute <flow_run_id>`: run a flow run the orchestrator created (a
deployment run) in this process. Workers start one such process per run.

The flow is loaded from the deployment (its `path` and `entrypoint`, or a clone of its `source`); its
states are proposed to the orchestrator (so a cancelled or concurrency-limited run does not start); its
result is persisted so the caller of `run_deployment` can read it. Exit status: 0 when the run ended
COMPLETED or FAILED (the flow's own outcome), 1 when it could not start or crashed, 143 on SIGTERM.
"""

from __future__ import annotations

import sys
from typing import Any
from uuid import UUID

from headwater.core.states import StateType
from headwater.states import State


def execute_flow_run(flow_run_id: UUID) -> State[Any]:
    """Load and run the flow run; returns its final state."""
    from headwater._wiring import call
    from headwater.deployments.entrypoints import load_flow_for_deployment
    from headwater.engine.flow_engine import FlowRunCore, run_core_async, run_core_sync
    from headwater.engine.proposals import propose

    flow_run = call(lambda o: o.read_flow_run(flow_run_id))
    if flow_run.deployment_id is None:
        raise SystemExit(f"Flow run {flow_run_id} was not created from a deployment; nothing to execute.")
    deployment_id = flow_run.deployment_id
    deployment = call(lambda o: o.read_deployment(deployment_id))
    try:
        flow = load_flow_for_deployment(deployment)
    except Exception as exc:
        message = f"Could not load the flow of deployment {deployment.flow_name}/{deployment.name}: {exc}"
        propose(flow_run_id, State(StateType.CRASHED, message=message))
        print(message, file=sys.stderr)
        return State(StateType.CRASHED, message=message)
    core = FlowRunCore(flow, (), dict(flow_run.parameters), existing=flow_run)
    if flow.is_async:
        import asyncio

        async_state: State[Any] = asyncio.run(run_core_async(core, "state"))
        return async_state
    state: State[Any] = run_core_sync(core, "state")
    return state


def standby() -> None:
    """Warm up, then wait for `<flow_run_id> [working directory]` on stdin and run that flow run.

    Workers keep one such process ready so a run starts without paying for interpreter start-up,
    imports and connecting to the orchestrator. An empty stdin (the worker stopped) ends it quietly.
    """
    import os

    import headwater.deployments.entrypoints
    import headwater.engine.flow_engine  # noqa: F401
    from headwater._wiring import call
    from headwater.engine.recorder import get_recorder

    call(_connected)
    get_recorder()
    line = sys.stdin.readline().strip()
    if not line:
        raise SystemExit(0)
    run_id, _, cwd = line.partition(" ")
    if cwd:
        os.chdir(cwd)
    main([run_id])


async def _connected(orchestrator: object) -> None:
    """Nothing: calling it opens the shared orchestrator connection."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: one argument, the flow run id (or `--standby`)."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--standby"]:
        standby()
        return
    if len(args) != 1:
        raise SystemExit("usage: python -m headwater.engine.execute <flow_run_id>")
    try:
        flow_run_id = UUID(args[0])
    except ValueError:
        raise SystemExit(f"{args[0]!r} is not a flow run id.") from None
    state = execute_flow_run(flow_run_id)
    raise SystemExit(0 if state.type in (StateType.COMPLETED, StateType.FAILED) else 1)


if __name__ == "__main__":
    main()
