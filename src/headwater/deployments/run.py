"""`run_deployment`: start a run of a deployed flow — and wait for it, or carry on.

Inside a flow run, the new run is a child of the caller (linked through a task run standing for the
call), so it appears under the caller and is cancelled with it.
"""

from __future__ import annotations

import functools
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from headwater.core.states import StateType
from headwater.states import State

if TYPE_CHECKING:
    from headwater.schemas.objects import FlowRun


class DeploymentFlowRun:
    """A flow run of a deployment as `run_deployment` returns it: the stored run's fields, and a `state`
    whose `result()` reads the run's persisted return value."""

    def __init__(self, flow_run: FlowRun) -> None:
        from headwater.engine.proposals import state_from_schema

        self.flow_run = flow_run
        self.state: State[Any] = (
            state_from_schema(flow_run.state) if flow_run.state is not None else State(StateType.SCHEDULED)
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.flow_run, name)

    def __repr__(self) -> str:
        return f"FlowRun(id={self.flow_run.id}, name={self.flow_run.name!r}, state={self.state!r})"

    @property
    def id(self) -> UUID:
        """The run's id."""
        return self.flow_run.id

    @property
    def name(self) -> str:
        """The run's name."""
        return self.flow_run.name


def run_deployment(
    name: str | UUID,
    parameters: dict[str, Any] | None = None,
    scheduled_time: datetime | None = None,
    flow_run_name: str | None = None,
    timeout: float | None = None,
    poll_interval: float | None = None,
    tags: list[str] | None = None,
    idempotency_key: str | None = None,
    work_queue_name: str | None = None,
    as_subflow: bool = True,
) -> DeploymentFlowRun:
    """Create a run of a deployment and wait for it to finish (`timeout=None`), for at most `timeout`
    seconds, or not at all (`timeout=0`).

    Args:
        name: `flow-name/deployment-name`, or the deployment's id.
        parameters: merged over the deployment's defaults and validated against its schema.
        scheduled_time: when the run is due (default: now).
        timeout: seconds to wait; None waits until the run is final, 0 returns at once.
        poll_interval: accepted for compatibility; waiting is a long-poll, not a polling loop.
        tags, idempotency_key, work_queue_name, flow_run_name: for the new run.
        as_subflow: inside a flow run, link the new run as a child of the caller.

    Returns:
        The run; `.state.result()` gives its return value once it completed.
    """
    from headwater._wiring import call
    from headwater.engine.context import flow_run_context
    from headwater.schemas.deployments import DeploymentFlowRunCreate

    deployment = call(lambda o: _read_deployment(o, name))
    parent = flow_run_context.get() if as_subflow else None
    link = _ParentLink(parent, deployment.flow_name, deployment.name) if parent is not None else None
    create = DeploymentFlowRunCreate(
        parameters=parameters or {},
        name=flow_run_name,
        scheduled_time=scheduled_time,
        tags=list(tags or []),
        idempotency_key=idempotency_key,
        parent_task_run_id=link.task_run_id if link else None,
        work_queue_name=work_queue_name,
    )
    try:
        flow_run = call(lambda o: o.create_flow_run_from_deployment(deployment.id, create))
    except BaseException as exc:
        if link:
            link.finish(State(StateType.FAILED, message=f"Could not start a run of {deployment.name!r}: {exc}"))
        raise
    if link:
        link.started(flow_run.id)
    if timeout is None or timeout > 0:
        flow_run = _wait(flow_run, timeout)
    result = DeploymentFlowRun(flow_run)
    if link:
        link.finish(State(StateType.COMPLETED, message=f"Started flow run {flow_run.name!r} ({flow_run.id})."))
    return result


async def _read_deployment(orchestrator: Any, name: str | UUID) -> Any:
    if isinstance(name, UUID):
        return await orchestrator.read_deployment(name)
    try:
        return await orchestrator.read_deployment(UUID(name))
    except ValueError:
        pass
    if "/" not in name:
        raise ValueError(
            f"Deployment name {name!r} must be 'flow-name/deployment-name' (or the deployment's id)."
        )
    return await orchestrator.read_deployment_by_name(name)


def _wait(flow_run: FlowRun, timeout: float | None) -> FlowRun:
    from headwater._wiring import call

    deadline = None if timeout is None else time.monotonic() + timeout
    run_id = flow_run.id
    while flow_run.state_type is None or flow_run.state_type not in _FINAL:
        remaining = 30.0 if deadline is None else deadline - time.monotonic()
        if remaining <= 0:
            break
        flow_run = call(functools.partial(_wait_once, run_id=run_id, seconds=min(remaining, 30.0)))
    return flow_run


async def _wait_once(orchestrator: Any, run_id: UUID, seconds: float) -> FlowRun:
    result: FlowRun = await orchestrator.wait_for_flow_run(run_id, seconds)
    return result


_FINAL = {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}


class _ParentLink:
    """The task run, in the calling flow run, that stands for a `run_deployment` call."""

    def __init__(self, parent: Any, flow_name: str, deployment_name: str) -> None:
        from headwater.engine import recorder as rec
        from headwater.utilities.ids import new_id

        self.recorder = rec.get_recorder()
        self.task_run_id = new_id()
        self.parent = parent
        self.key = f"run_deployment-{flow_name}/{deployment_name}"
        self.dynamic_key = parent.next_dynamic_key(self.key)
        self.name = f"{deployment_name}-{self.dynamic_key}"
        self.created = False

    def started(self, child_id: UUID | None, state: State[Any] | None = None) -> None:
        from headwater.engine import recorder as rec

        self.created = True
        self.recorder.add((
            rec.TASK_RUN, self.task_run_id, self.name, self.parent.flow_run.id, self.key, self.dynamic_key,
            [], None, child_id, state or State(StateType.RUNNING), 1,
        ))

    def finish(self, state: State[Any]) -> None:
        from headwater.engine import recorder as rec

        if not self.created:  # the child could not be created: the call's task run is recorded as failed
            self.started(None, state)
            return
        self.recorder.add((rec.TASK_STATE, self.task_run_id, state, 1))
