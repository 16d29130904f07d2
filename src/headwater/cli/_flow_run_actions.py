"""What `headwater flow-run cancel` and `headwater flow-run retry` do to a run's state."""

from __future__ import annotations

from uuid import UUID

import typer

from headwater.cli._output import OutputFormat, dump, fail, print_json
from headwater.cli._store import call_store
from headwater.core.states import StateType, is_terminal
from headwater.schemas.objects import FlowRun
from headwater.schemas.responses import OrchestrationResult, SetStateStatus
from headwater.schemas.states import StateCreate, StateDetails

NOT_STARTED = frozenset({None, StateType.SCHEDULED, StateType.PENDING, StateType.PAUSED})
"""Runs in these states have no process doing their work yet: cancelling them makes them CANCELLED at once
(a worker that just claimed one stops the process it started when it sees the run CANCELLED)."""


def cancel(run_id: UUID, output: OutputFormat) -> None:
    """Cancel a run: CANCELLED at once when it has not started, else CANCELLING for its worker (or its own
    process) to stop it. A finished run exits 1."""
    run = _read(run_id)
    if is_terminal(run.state_type):
        fail(f"Flow run {run.name!r} has already finished ({_state(run)}); there is nothing to cancel.")
    if run.state_type is StateType.CANCELLING:
        _print(run, f"Flow run {run.name!r} is already being cancelled.", output)
        return
    if run.state_type in NOT_STARTED:
        state = StateCreate(type=StateType.CANCELLED, message="Cancelled from the command line before it started.")
        done = f"Cancelled flow run {run.name!r} (it was {_state(run)})."
    else:
        state = StateCreate(type=StateType.CANCELLING, message="Cancellation requested from the command line.")
        who = "its worker stops its process" if run.deployment_id else "the process running it stops it"
        done = f"Cancelling flow run {run.name!r}: {who}, then it is CANCELLED."
    _checked(run, call_store(lambda o: o.set_flow_run_state(run_id, state)), "cancel")
    _print(_read(run_id), done, output)


def retry(run_id: UUID, output: OutputFormat) -> None:
    """Put a finished run of a deployment back to SCHEDULED (forced), for a worker to run it again."""
    from headwater.schemas._base import now_utc

    run = _read(run_id)
    if run.deployment_id is None:
        fail(
            f"Flow run {run.name!r} was not created from a deployment, so no worker can start it again; "
            "run its flow again instead."
        )
    if not is_terminal(run.state_type):
        fail(
            f"Flow run {run.name!r} is {_state(run)}; only a finished run (Completed, Failed, Cancelled or "
            "Crashed) can be retried."
        )
    state = StateCreate(
        type=StateType.SCHEDULED,
        name="AwaitingRetry",
        message=f"Retry requested from the command line (it was {_state(run)}).",
        details=StateDetails(scheduled_time=now_utc()),
    )
    _checked(run, call_store(lambda o: o.set_flow_run_state(run_id, state, force=True)), "retry")
    retried = _read(run_id)
    where = f" from work pool {retried.work_pool_name!r}" if retried.work_pool_name else ""
    _print(
        retried, f"Flow run {run.name!r} is scheduled again (it was {_state(run)}); a worker{where} runs it.", output
    )
    if output is OutputFormat.TABLE:
        from headwater.cli._waiting import note_why_waiting

        note_why_waiting(retried)


def _read(run_id: UUID) -> FlowRun:
    return call_store(lambda o: o.read_flow_run(run_id), not_found=f"No flow run with id {run_id}")


def _state(run: FlowRun) -> str:
    return run.state_name or (run.state_type.value.capitalize() if run.state_type else "without a state")


def _checked(run: FlowRun, result: OrchestrationResult, action: str) -> None:
    if result.status is not SetStateStatus.ACCEPT:
        fail(f"Could not {action} flow run {run.name!r}: {result.reason or result.status.value}")


def _print(run: FlowRun, message: str, output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        print_json(dump(run))
    else:
        typer.echo(message)
