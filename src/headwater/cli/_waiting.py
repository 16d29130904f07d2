"""Why a deployment run has not started: its deployment, pool or queue is paused, no worker polls the
pool, or a concurrency limit is reached. Shown by `flow-run inspect` and `deployment run`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from headwater.core.states import StateType
from headwater.exceptions import ObjectNotFound
from headwater.schemas._base import now_utc

if TYPE_CHECKING:
    from uuid import UUID

    from headwater.client.base import Orchestrator
    from headwater.schemas.objects import FlowRun
    from headwater.schemas.work_pools import WorkPool

_WAITING = frozenset({StateType.SCHEDULED, StateType.PENDING})
_IN_PROGRESS = [StateType.PENDING, StateType.RUNNING, StateType.CANCELLING]


def note_why_waiting(run: FlowRun) -> None:
    """Warn on stderr when a run just created or rescheduled will not start soon, saying why."""
    import typer

    from headwater.cli._store import call_store

    reason = call_store(lambda o: why_waiting(o, run))
    if reason:
        typer.secho(f"It will wait: {reason}", fg=typer.colors.YELLOW, err=True)


async def why_waiting(orchestrator: Orchestrator, run: FlowRun) -> str | None:
    """What keeps a SCHEDULED or PENDING run of a work pool from starting, or `None` when nothing
    (or when the run is not waiting for a worker)."""
    if run.state_type not in _WAITING or (run.work_pool_name is None and run.deployment_id is None):
        return None
    reasons: list[str] = []
    due = run.state.details.scheduled_time if run.state is not None else None
    due = due or run.expected_start_time
    if run.state_type is StateType.SCHEDULED and due is not None and due > now_utc():
        reasons.append(f"it is not due yet (due at {due.astimezone():%Y-%m-%d %H:%M:%S})")
    reasons += await _deployment_reasons(orchestrator, run)
    if run.work_pool_name is not None:
        reasons += await _pool_reasons(orchestrator, run, run.work_pool_name)
    if not reasons:
        return None
    text = "; ".join(reasons)
    return text[0].upper() + text[1:] + "."


async def _deployment_reasons(orchestrator: Orchestrator, run: FlowRun) -> list[str]:
    if run.deployment_id is None:
        return []
    try:
        deployment = await orchestrator.read_deployment(run.deployment_id)
    except ObjectNotFound:
        return ["its deployment was deleted"]
    full_name = f"{deployment.flow_name}/{deployment.name}"
    reasons = []
    if deployment.paused:
        reasons.append(f"deployment {full_name!r} is paused (`headwater deployment resume {full_name}`)")
    if deployment.concurrency_limit is not None and run.state_type is StateType.SCHEDULED:
        busy = await _count_in_progress(orchestrator, deployment_id=run.deployment_id)
        if busy >= deployment.concurrency_limit:
            reasons.append(
                f"deployment {full_name!r} is at its concurrency limit ({busy} of {deployment.concurrency_limit} "
                "runs in progress)"
            )
    return reasons


async def _pool_reasons(orchestrator: Orchestrator, run: FlowRun, pool_name: str) -> list[str]:
    try:
        pool = await orchestrator.read_work_pool(pool_name)
    except ObjectNotFound:
        return [f"work pool {pool_name!r} does not exist (`headwater work-pool create {pool_name}`)"]
    reasons = []
    if pool.paused:
        reasons.append(f"work pool {pool.name!r} is paused (`headwater work-pool resume {pool.name}`)")
    if run.work_queue_name is not None:
        queues = {queue.name: queue for queue in await orchestrator.read_work_queues(pool.name)}
        queue = queues.get(run.work_queue_name)
        if queue is not None and queue.paused:
            reasons.append(
                f"work queue {queue.name!r} is paused (`headwater work-queue resume {queue.name} --pool {pool.name}`)"
            )
    reasons += await _worker_reasons(orchestrator, pool)
    if pool.concurrency_limit is not None and run.state_type is StateType.SCHEDULED:
        busy = await _count_in_progress(orchestrator, work_pool_name=pool.name)
        if busy >= pool.concurrency_limit:
            reasons.append(
                f"work pool {pool.name!r} is at its concurrency limit ({busy} of {pool.concurrency_limit} "
                "runs in progress)"
            )
    return reasons


async def _worker_reasons(orchestrator: Orchestrator, pool: WorkPool) -> list[str]:
    from headwater.schemas.work_pools import WorkerStatus

    workers = await orchestrator.read_workers(pool.name)
    start = f"`headwater worker start --pool {pool.name}`"
    if not workers:
        return [f"no worker has polled work pool {pool.name!r} (start one: {start})"]
    if not any(worker.status is WorkerStatus.ONLINE for worker in workers):
        heard = max((w.last_heartbeat_time for w in workers if w.last_heartbeat_time), default=None)
        last = f"; last heard from at {heard.astimezone():%Y-%m-%d %H:%M:%S}" if heard else ""
        return [f"no worker of work pool {pool.name!r} is online{last} (start one: {start})"]
    return []


async def _count_in_progress(
    orchestrator: Orchestrator, *, work_pool_name: str | None = None, deployment_id: UUID | None = None
) -> int:
    from headwater.schemas.filters import FlowRunFilter

    deployments = [deployment_id] if deployment_id is not None else None
    pools = [work_pool_name] if work_pool_name is not None else None
    run_filter = FlowRunFilter(state_type=_IN_PROGRESS, work_pool_name=pools, deployment_id=deployments)
    return await orchestrator.count_flow_runs(run_filter)
