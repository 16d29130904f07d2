"""The worker loop, whatever runs the flow runs: set up the pool, send heartbeats, long-poll for due
runs, claim them, start their infrastructure, watch for cancellation, report crashes, shut down cleanly.

A subclass says how a run's infrastructure is started (`start_infrastructure`); the handle it returns
(`Infrastructure`) is waited for and, when the run is cancelled or the worker stops, terminated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar, TypeVar
from uuid import UUID

from headwater.core.states import StateType
from headwater.exceptions import ObjectNotFound
from headwater.schemas._base import now_utc
from headwater.workers._control import run_until_signalled, unless_set
from headwater.workers._pool import setup_pool
from headwater.workers._runs import ExitStatus, Infrastructure, StopReason, TrackedRun, claim, propose, settle

if TYPE_CHECKING:
    from headwater.client.base import Orchestrator
    from headwater.schemas.deployments import Deployment
    from headwater.schemas.objects import FlowRun
    from headwater.schemas.work_pools import WorkPool

__all__ = ["BaseWorker", "ExitStatus", "Infrastructure"]

T = TypeVar("T")

logger = logging.getLogger("headwater.workers")

_CANCELLED_TYPES = [StateType.CANCELLING, StateType.CANCELLED]

MIN_POLL_SECONDS = 0.5
"""An empty answer to a poll faster than this means the orchestrator did not long-poll: wait the rest."""


class BaseWorker(ABC):
    """Polls a work pool and runs what is due, at most `limit` runs at once.

    Args:
        work_pool_name: The pool to poll; created (of this worker's type) when missing.
        work_queue_names: Only these queues of the pool (created when missing); default: all of them.
        limit: At most this many runs at once (default: no limit of the worker's own; the pool's and
            queues' concurrency limits always apply).
        name: The worker's name, as shown by `headwater work-pool inspect` (default: host and pid).
        heartbeat_interval: Seconds between heartbeats; a worker not heard from for a few intervals is
            shown OFFLINE.
        prefetch_seconds: Claim runs due within this many seconds (their process starts when they are due).
        poll_wait_seconds: How long one long-poll waits for a due run before asking again.
        cancellation_check_interval: Seconds between checks for runs of this worker set CANCELLING.
        shutdown_grace_seconds: On stop, how long running runs may go on before they are terminated.
        kill_grace_seconds: How long a terminated process may take to exit before it is killed.
        create_pool_if_missing: Create the pool when it does not exist (else fail).
    """

    type: ClassVar[str] = ""

    def __init__(
        self,
        work_pool_name: str,
        work_queue_names: Sequence[str] | None = None,
        limit: int | None = None,
        name: str | None = None,
        *,
        heartbeat_interval: float = 10.0,
        prefetch_seconds: float = 0.0,
        poll_wait_seconds: float = 10.0,
        cancellation_check_interval: float = 1.0,
        shutdown_grace_seconds: float = 10.0,
        kill_grace_seconds: float = 5.0,
        create_pool_if_missing: bool = True,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.work_pool_name = work_pool_name
        self.work_queue_names = list(work_queue_names) if work_queue_names else None
        self.limit = limit
        self.name = name or f"{type(self).__name__} {socket.gethostname()}-{os.getpid()}"
        self.heartbeat_interval = heartbeat_interval
        self.prefetch_seconds = prefetch_seconds
        self.poll_wait_seconds = poll_wait_seconds
        self.cancellation_check_interval = cancellation_check_interval
        self.shutdown_grace_seconds = shutdown_grace_seconds
        self.kill_grace_seconds = kill_grace_seconds
        self.create_pool_if_missing = create_pool_if_missing
        self.work_pool: WorkPool | None = None
        self._orchestrator: Orchestrator | None = None
        self._runs: dict[UUID, TrackedRun] = {}
        self._deferred: dict[UUID, float] = {}
        self._terminations: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._force = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False

    # -- what a subclass provides ------------------------------------------------------------------
    @abstractmethod
    async def start_infrastructure(self, flow_run: FlowRun, deployment: Deployment | None) -> Infrastructure:
        """Start what runs this claimed (PENDING) flow run and return its handle."""

    async def prepare(self) -> None:  # noqa: B027 - optional hook
        """Called once the worker is set up, before it polls (e.g. to warm up infrastructure)."""

    async def release(self) -> None:  # noqa: B027 - optional hook
        """Called when the worker stops, after its runs were dealt with (to free what `prepare` made)."""

    # -- lifecycle --------------------------------------------------------------------------------
    async def run(self) -> None:
        """Serve the pool until `stop()`: poll, start runs, and at the end stop what is still running."""
        from headwater._wiring import connect
        from headwater.logging.configuration import setup_logging
        from headwater.logging.handlers import drain_console

        setup_logging()
        self._fresh_events()
        self._running = True
        self._orchestrator = await connect()
        background: list[asyncio.Task[None]] = []
        try:
            self.work_pool = await self._setup_pool()
            await self._heartbeat()
            queues = ", ".join(repr(q) for q in self.work_queue_names) if self.work_queue_names else "all queues"
            limit = f", at most {self.limit} runs at once" if self.limit else ""
            logger.info(
                "Worker %r started: polling work pool %r (%s)%s.", self.name, self.work_pool.name, queues, limit
            )
            await self.prepare()
            background = [
                asyncio.create_task(self._heartbeat_loop(), name="headwater-worker-heartbeat"),
                asyncio.create_task(self._cancellation_loop(), name="headwater-worker-cancellations"),
            ]
            await self._poll_loop()
            await self._shutdown()
        finally:
            with contextlib.suppress(Exception):
                await self.release()
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._orchestrator.aclose()
            self._orchestrator = None
            self._running = False
            self._stopping.clear()
            self._force.clear()
            logger.info("Worker %r stopped.", self.name)
            drain_console()  # its last lines are shown before `run()` returns
            self._finished.set()

    def _fresh_events(self) -> None:
        # Events made for this run of the loop (an earlier `run()` may have used another loop); a stop
        # asked for before `run()` began still counts.
        stopping, force = self._stopping.is_set(), self._force.is_set()
        self._stopping, self._force, self._slot_freed = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._finished = asyncio.Event()
        if stopping:
            self._stopping.set()
        if force:
            self._force.set()

    async def stop(self, force: bool = False) -> None:
        """Stop polling; let running runs go on for `shutdown_grace_seconds` (none with `force`), then
        terminate them. Returns once `run()` has finished."""
        self.request_stop(force)
        if self._running:
            await self._finished.wait()

    def request_stop(self, force: bool = False) -> None:
        """Ask the worker to stop, without waiting (for signal handlers; call on the worker's loop)."""
        self._stopping.set()
        if force:
            self._force.set()

    def start(self) -> None:
        """Run the worker on its own event loop until SIGINT or SIGTERM (a second one stops runs at once)."""
        asyncio.run(run_until_signalled(self.run(), self._on_signal))

    def _on_signal(self, signum: signal.Signals) -> None:
        if self._stopping.is_set():
            logger.warning("Got %s again: terminating the running flow runs now.", signum.name)
            self.request_stop(force=True)
            return
        logger.info(
            "Got %s: stopping (running flow runs get %ss to finish; %s again stops them now).",
            signum.name,
            self.shutdown_grace_seconds,
            signum.name,
        )
        self.request_stop()

    # -- set-up and heartbeats ----------------------------------------------------------------------
    @property
    def orchestrator(self) -> Orchestrator:
        """The connection `run()` opened."""
        if self._orchestrator is None:
            raise RuntimeError("The worker is not running.")
        return self._orchestrator

    async def _setup_pool(self) -> WorkPool:
        return await setup_pool(
            self.orchestrator,
            self.work_pool_name,
            self.work_queue_names,
            worker_type=self.type,
            create_if_missing=self.create_pool_if_missing,
        )

    async def _heartbeat(self) -> None:
        from headwater.schemas.work_pools import WorkerHeartbeat

        heartbeat = WorkerHeartbeat(name=self.name, heartbeat_interval_seconds=self.heartbeat_interval)
        await self.orchestrator.worker_heartbeat(self.work_pool_name, heartbeat)

    async def _heartbeat_loop(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self._heartbeat()
            except Exception as exc:
                if not failing:
                    logger.warning("Could not send the worker's heartbeat: %s", exc)
                failing = True
            else:
                failing = False

    # -- polling and claiming -------------------------------------------------------------------------
    def _free_slots(self) -> int:
        if self.limit is None:
            return 200  # the most one request may ask for
        return max(self.limit - len(self._runs), 0)

    async def _poll_loop(self) -> None:
        from headwater.schemas.work_pools import GetScheduledFlowRuns

        loop = asyncio.get_running_loop()
        backoff = 0.5
        while not self._stopping.is_set():
            free = self._free_slots()
            if free == 0:
                self._slot_freed.clear()
                await self._until_stopped(self._slot_freed.wait())
                continue
            scheduled_before = now_utc() + timedelta(seconds=self.prefetch_seconds) if self.prefetch_seconds else None
            request = GetScheduledFlowRuns(
                work_queue_names=self.work_queue_names,
                scheduled_before=scheduled_before,
                limit=min(free, 200),
                wait_seconds=self.poll_wait_seconds,
                worker_name=self.name,
            )
            asked = loop.time()
            try:
                polled = await self._until_stopped(
                    self.orchestrator.get_scheduled_flow_runs(self.work_pool_name, request)
                )
            except Exception as exc:
                logger.warning("Could not poll work pool %r (retrying in %.1fs): %s", self.work_pool_name, backoff, exc)
                await self._until_stopped(asyncio.sleep(backoff))
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5
            if polled is None or self._stopping.is_set():
                break
            if not polled and loop.time() - asked < MIN_POLL_SECONDS:
                # An orchestrator that does not hold the request (no long-poll) must not be asked in a busy
                # loop; with long-poll an empty answer comes after `poll_wait_seconds`, and a run is
                # handed over as soon as it is due, so this never delays a run.
                await self._until_stopped(asyncio.sleep(MIN_POLL_SECONDS - (loop.time() - asked)))
                continue
            started = await self._claim_and_start([response.flow_run for response in polled])
            if polled and not started:
                # Everything offered was deferred (a WAIT answer) or is ours already: wait for the earliest
                # deferral instead of asking again at once.
                await self._until_stopped(self._wait_for_deferral())

    async def _claim_and_start(self, offered: list[FlowRun]) -> int:
        now = asyncio.get_running_loop().time()
        self._deferred = {key: until for key, until in self._deferred.items() if until > now}
        fresh = [run for run in offered if run.id not in self._runs and run.id not in self._deferred]
        fresh = fresh[: self._free_slots()]
        claimed = await asyncio.gather(*(self._claim(run) for run in fresh))
        for run, ok in zip(fresh, claimed, strict=True):
            if ok:
                entry = TrackedRun(run)
                self._runs[run.id] = entry
                entry.task = asyncio.create_task(self._execute(entry), name=f"headwater-worker-run-{run.id}")
        return sum(claimed)

    async def _wait_for_deferral(self) -> None:
        loop = asyncio.get_running_loop()
        delay = min((until - loop.time() for until in self._deferred.values()), default=0.5)
        await asyncio.sleep(min(max(delay, 0.05), self.poll_wait_seconds))

    async def _claim(self, flow_run: FlowRun) -> bool:
        """Propose PENDING: the run is ours only when the orchestrator accepts; a WAIT defers it."""
        claimed, delay = await claim(self.orchestrator, self.name, flow_run)
        if delay is not None:
            self._deferred[flow_run.id] = asyncio.get_running_loop().time() + delay
        return claimed

    # -- one run ------------------------------------------------------------------------------------
    async def _execute(self, entry: TrackedRun) -> None:
        run = entry.flow_run
        try:
            deployment = await self._read_deployment(run)
            await self._wait_until_due(entry)
            if entry.stop_reason is not None:
                await settle(self.orchestrator, self.name, entry, None)
                return
            entry.infrastructure = await self.start_infrastructure(run, deployment)
            if entry.stop_reason is not None:  # cancelled while it started
                await entry.infrastructure.terminate(self.kill_grace_seconds)
            status = await entry.infrastructure.wait()
            await settle(self.orchestrator, self.name, entry, status)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("Flow run %r could not be started", run.name)
            message = f"Worker {self.name!r} could not start the flow run: {exc}"
            await propose(self.orchestrator, run, StateType.CRASHED, message)
        finally:
            self._runs.pop(run.id, None)
            self._slot_freed.set()

    async def _read_deployment(self, run: FlowRun) -> Deployment | None:
        if run.deployment_id is None:
            return None
        try:
            return await self.orchestrator.read_deployment(run.deployment_id)
        except ObjectNotFound:
            logger.warning("Flow run %r: its deployment %s no longer exists.", run.name, run.deployment_id)
            return None
        except Exception as exc:  # the engine reads the deployment itself; only the working folder is lost
            logger.warning("Flow run %r: could not read its deployment (%s); starting it anyway.", run.name, exc)
            return None

    async def _wait_until_due(self, entry: TrackedRun) -> None:
        due = entry.flow_run.expected_start_time
        if due is None or not self.prefetch_seconds:  # without prefetch the orchestrator says it is due
            return
        delay = min((due - now_utc()).total_seconds(), self.prefetch_seconds)
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(entry.stop_requested.wait(), delay)

    # -- cancellation and shutdown -------------------------------------------------------------------
    async def _cancellation_loop(self) -> None:
        from headwater.schemas.filters import FlowRunFilter

        while True:
            await asyncio.sleep(self.cancellation_check_interval)
            ids = [entry.flow_run.id for entry in self._runs.values() if entry.stop_reason is None]
            if not ids:
                continue
            run_filter = FlowRunFilter(id=ids, state_type=_CANCELLED_TYPES, limit=len(ids))
            try:
                cancelled = await self.orchestrator.read_flow_runs(run_filter)
            except Exception as exc:
                logger.debug("Could not check for cancelled runs: %s", exc)
                continue
            for run in cancelled:
                entry = self._runs.get(run.id)
                if entry is not None:
                    logger.info("Flow run %r is %s: stopping it.", run.name, run.state_name or run.state_type)
                    self._stop_run(entry, "cancel")

    def _stop_run(self, entry: TrackedRun, reason: StopReason) -> None:
        if entry.stop_reason is not None:
            return
        entry.stop_reason = reason
        entry.stop_requested.set()
        if entry.infrastructure is not None:
            task = asyncio.create_task(entry.infrastructure.terminate(self.kill_grace_seconds))
            self._terminations.add(task)  # a reference, so the task is not collected before it ends
            task.add_done_callback(self._terminations.discard)

    async def _shutdown(self) -> None:
        tasks = [entry.task for entry in self._runs.values() if entry.task is not None]
        if tasks and not self._force.is_set():
            logger.info(
                "Waiting up to %ss for %d running flow run(s) to finish.", self.shutdown_grace_seconds, len(tasks)
            )
            # Waiting on `asyncio.wait(tasks)` (not on the tasks) so that giving up does not cancel them.
            drained = asyncio.create_task(asyncio.wait(tasks))
            forced = asyncio.create_task(self._force.wait())
            await asyncio.wait(
                [drained, forced], timeout=self.shutdown_grace_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            drained.cancel()
            forced.cancel()
        for entry in list(self._runs.values()):
            self._stop_run(entry, "shutdown")
        remaining = [entry.task for entry in self._runs.values() if entry.task is not None]
        if remaining:
            await asyncio.gather(*remaining, return_exceptions=True)

    async def _until_stopped(self, awaitable: Awaitable[T]) -> T | None:
        """The awaitable's result, or `None` (it is cancelled) when the worker is asked to stop first."""
        return await unless_set(awaitable, self._stopping)
