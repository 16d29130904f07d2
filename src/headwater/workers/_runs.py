"""What a worker keeps of one claimed run, and how it settles the run's state once its infrastructure
ended: a run that did not reach a final state by itself is made final here, saying why."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from headwater.core.states import StateType, is_terminal
from headwater.schemas.responses import SetStateStatus
from headwater.schemas.states import StateCreate, StateDetails

if TYPE_CHECKING:
    from headwater.client.base import Orchestrator
    from headwater.schemas.objects import FlowRun

logger = logging.getLogger("headwater.workers")


@dataclass(frozen=True)
class ExitStatus:
    """How a run's infrastructure ended: a process's return code (negative: killed by that signal)."""

    returncode: int | None

    @property
    def ok(self) -> bool:
        """Whether it exited with code 0."""
        return self.returncode == 0

    def describe(self) -> str:
        """`exited with code 3`, `was killed by signal 9 (SIGKILL)` …"""
        code = self.returncode
        if code is None:
            return "ended with an unknown status"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = "unknown signal"
            return f"was killed by signal {-code} ({name})"
        return f"exited with code {code}"


class Infrastructure(Protocol):
    """What runs one flow run (a process, for the process worker)."""

    async def wait(self) -> ExitStatus:
        """Wait until it ends (with its output drained) and say how."""
        ...

    async def terminate(self, grace_seconds: float) -> None:
        """Ask it to stop (SIGTERM: the engine records the run CANCELLED or CRASHED), then kill it if it is
        still there after `grace_seconds`."""
        ...


StopReason = Literal["cancel", "shutdown"]
"""Why the worker stops a run: it was cancelled, or the worker shuts down."""


@dataclass
class TrackedRun:
    """A run the worker claimed, until its infrastructure ended and its outcome was settled."""

    flow_run: FlowRun
    task: asyncio.Task[None] | None = None
    infrastructure: Infrastructure | None = None
    stop_reason: StopReason | None = None
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)


async def claim(orchestrator: Orchestrator, worker_name: str, run: FlowRun) -> tuple[bool, float | None]:
    """Propose PENDING for a due run: whether it is now the worker's, and for a WAIT answer, after how many
    seconds to try again (REJECT or ABORT: another worker has it, or it was cancelled)."""
    state = StateCreate(type=StateType.PENDING, message=f"Claimed by worker {worker_name!r}")
    try:
        result = await orchestrator.set_flow_run_state(run.id, state)
    except Exception as exc:
        logger.warning("Could not claim flow run %r: %s", run.name, exc)
        return False, None
    if result.status is SetStateStatus.ACCEPT:
        return True, None
    logger.debug("Flow run %r not claimed (%s): %s", run.name, result.status.value, result.reason)
    if result.status is SetStateStatus.WAIT:
        return False, result.delay_seconds if result.delay_seconds is not None else 1.0
    return False, None


async def settle(orchestrator: Orchestrator, worker_name: str, tracked: TrackedRun, status: ExitStatus | None) -> None:
    """Once the run's infrastructure ended (or never started: `status` is `None`), make sure the run is
    final: CANCELLED when it was cancelled, CRASHED (with the exit code or signal) when its process ended
    without finishing it, SCHEDULED again when the worker stopped before the run was due."""
    run = tracked.flow_run
    ended = f"its process {status.describe()}" if status is not None else "it never started"
    try:
        current = await orchestrator.read_flow_run(run.id)
    except Exception as exc:
        logger.warning("Flow run %r: %s, and its state could not be read: %s", run.name, ended, exc)
        return
    if is_terminal(current.state_type):
        quiet = status is None or status.ok or tracked.stop_reason is not None
        (logger.info if quiet else logger.warning)(
            "Flow run %r ended %s (%s).", run.name, current.state_name or current.state_type, ended
        )
        return
    if tracked.stop_reason == "cancel" or current.state_type is StateType.CANCELLING:
        message = f"Cancelled: worker {worker_name!r} stopped the run; {ended}."
        await propose(orchestrator, run, StateType.CANCELLED, message)
    elif status is None:  # the worker stopped before the run was due: it goes back for another worker
        message = f"Worker {worker_name!r} shut down before the run was due; it waits for another worker."
        await propose(orchestrator, run, StateType.SCHEDULED, message, scheduled_time=run.expected_start_time)
    elif tracked.stop_reason == "shutdown":
        message = f"Worker {worker_name!r} shut down while the run was in progress; {ended}."
        await propose(orchestrator, run, StateType.CRASHED, message)
    else:
        was = current.state_name or current.state_type
        message = f"The flow run's process {status.describe()} while the run was {was}."
        await propose(orchestrator, run, StateType.CRASHED, message)


async def propose(
    orchestrator: Orchestrator,
    run: FlowRun,
    state_type: StateType,
    message: str,
    *,
    scheduled_time: datetime | None = None,
) -> bool:
    """Propose a state for the run, logging what happens; whether it was accepted (errors are logged)."""
    (logger.warning if state_type is StateType.CRASHED else logger.info)("Flow run %r: %s", run.name, message)
    state = StateCreate(type=state_type, message=message, details=StateDetails(scheduled_time=scheduled_time))
    try:
        result = await orchestrator.set_flow_run_state(run.id, state)
    except Exception as exc:
        logger.warning("Could not record flow run %r %s: %s", run.name, state_type.value, exc)
        return False
    if result.status is not SetStateStatus.ACCEPT:
        logger.warning(
            "Flow run %r: %s was refused (%s): %s", run.name, state_type.value, result.status.value, result.reason
        )
        return False
    return True
