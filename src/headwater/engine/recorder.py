"""The recorder: everything the engine records goes through here, off the hot path.

A task call appends a tuple to an in-memory deque and returns; a coroutine on the portal loop drains
the deque in batches (every `record_flush_interval_seconds`, or as soon as a batch is full) and writes
them to the orchestrator. If the orchestrator cannot be reached, the batch is retried with backoff; the
buffer spills to a local journal once it grows past `record_buffer_max_items`, and at process exit
whatever is still unsent goes to the journal. Journaled batches are replayed, oldest first, by the next
recorder that reaches the same orchestrator. Every record carries a client-chosen id, so a batch that
is delivered twice records nothing twice.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from headwater.engine.journal import Journal
from headwater.engine.portal import Portal
from headwater.utilities.ids import new_id

if TYPE_CHECKING:
    from headwater.client.base import Orchestrator
    from headwater.schemas.actions import RecordBatch
    from headwater.states import State

# Record kinds: the first item of each tuple in the buffer.
FLOW_RUN, FLOW_STATE, TASK_RUN, TASK_STATE, LOG, HEARTBEAT = range(6)

_log = logging.getLogger("headwater.recorder")


def state_payload(state: State[Any]) -> dict[str, Any]:
    """A state as the wire schema `StateCreate` takes it."""
    details: dict[str, Any] = {}
    if state.cache_key is not None:
        details["cache_key"] = state.cache_key
    if state.scheduled_time is not None:
        details["scheduled_time"] = state.scheduled_time
    return {
        "id": state.id,
        "type": state.type,
        "name": state.name,
        "timestamp": state.timestamp,
        "message": state.message,
        "data": state.result_ref,
        "details": details,
    }


def build_batch(items: list[tuple[Any, ...]]) -> RecordBatch:
    """Turn buffered tuples into the wire batch (runs on the portal loop, not the hot path)."""
    from headwater.schemas.actions import RecordBatch

    flow_runs: list[dict[str, Any]] = []
    task_runs: list[dict[str, Any]] = []
    flow_states: list[dict[str, Any]] = []
    task_states: list[dict[str, Any]] = []
    logs: list[dict[str, Any]] = []
    beats: list[dict[str, Any]] = []
    for item in items:
        kind = item[0]
        if kind == TASK_STATE:
            task_states.append({"run_id": item[1], "state": state_payload(item[2]), "run_count": item[3]})
        elif kind == TASK_RUN:
            _, run_id, name, flow_run_id, task_key, dynamic_key, tags, cache_key, child_id, initial, _count = item
            task_runs.append(
                {
                    "id": run_id,
                    "name": name,
                    "flow_run_id": flow_run_id,
                    "task_key": task_key,
                    "dynamic_key": str(dynamic_key),
                    "tags": tags,
                    "cache_key": cache_key,
                    "child_flow_run_id": child_id,
                    "state": state_payload(initial),
                }
            )
        elif kind == LOG:
            _, log_id, name, level, message, created, flow_run_id, task_run_id = item
            logs.append(
                {
                    "id": log_id,
                    "name": name,
                    "level": level,
                    "message": message,
                    "timestamp": datetime.fromtimestamp(created, UTC),
                    "flow_run_id": flow_run_id,
                    "task_run_id": task_run_id,
                }
            )
        elif kind == FLOW_STATE:
            flow_states.append({"run_id": item[1], "state": state_payload(item[2]), "run_count": item[3]})
        elif kind == FLOW_RUN:
            flow_runs.append(item[1])
        elif kind == HEARTBEAT:
            beats.append({"flow_run_id": item[1], "timestamp": item[2]})
    return RecordBatch.model_validate(
        {
            "flow_runs": flow_runs,
            "task_runs": task_runs,
            "flow_run_states": flow_states,
            "task_run_states": task_states,
            "logs": logs,
            "heartbeats": beats,
        }
    )


class Recorder:
    """Buffers records and writes them behind the hot path.

    Args:
        portal: the loop the writes run on.
        connect: returns the orchestrator to write to (called once, on the portal loop).
        journal: where undeliverable batches wait.
    """

    def __init__(
        self,
        portal: Portal,
        connect: Callable[[], Awaitable[Orchestrator]],
        journal: Journal,
        *,
        flush_interval: float = 0.05,
        batch_size: int = 2000,
        buffer_max_items: int = 200_000,
        heartbeat_interval: float = 10.0,
        flush_timeout: float = 15.0,
    ) -> None:
        self._portal = portal
        self._connect = connect
        self._journal = journal
        self._interval = flush_interval
        self._batch_size = batch_size
        self._buffer_max = buffer_max_items
        self._heartbeat_interval = heartbeat_interval
        self._flush_timeout = flush_timeout
        self._items: deque[tuple[Any, ...]] = deque()
        self._signalled = False
        self._orchestrator: Orchestrator | None = None
        self._active_runs: dict[UUID, None] = {}
        self._closed = False
        self._send_lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._failing_since: float | None = None
        self._journal_checked = False
        started = threading.Event()
        portal.call_soon(self._start, started)
        started.wait()

    # -- the hot path -----------------------------------------------------------------------------
    def add(self, item: tuple[Any, ...]) -> None:
        """Buffer one record (any thread). Costs a deque append; wakes the writer when a batch is full."""
        self._items.append(item)
        if not self._signalled and len(self._items) >= self._batch_size:
            self._signalled = True
            self._portal.call_soon(self._wake_up)

    def log(
        self,
        name: str,
        level: int,
        message: str,
        created: float,
        flow_run_id: UUID | None,
        task_run_id: UUID | None,
    ) -> None:
        """Buffer one log line."""
        self.add((LOG, new_id(), name, level, message, created, flow_run_id, task_run_id))

    def run_started(self, flow_run_id: UUID) -> None:
        """A flow run began in this process: send heartbeats for it until `run_finished`."""
        self._active_runs[flow_run_id] = None
        self.add((HEARTBEAT, flow_run_id, datetime.now(UTC)))

    def run_finished(self, flow_run_id: UUID) -> None:
        """A flow run of this process ended."""
        self._active_runs.pop(flow_run_id, None)

    # -- flushing ---------------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> None:
        """Write everything buffered so far and wait until it is written; whatever cannot be delivered
        within `timeout` seconds (default: `record_flush_timeout_seconds`) goes to the journal."""
        if self._portal.in_portal():
            raise RuntimeError("flush() from the portal thread; use aflush()")
        self._portal.call(self.aflush(deadline=self._flush_timeout if timeout is None else timeout))

    async def aflush(self, deadline: float | None = None) -> None:
        """Write everything buffered; after `deadline` seconds of failing, journal the rest."""
        assert self._send_lock is not None
        async with self._send_lock:
            await self._drain(deadline)

    def close(self, timeout: float = 10.0) -> None:
        """Flush (journaling what cannot be delivered within `timeout`) and stop."""
        if self._closed:
            return
        self._closed = True
        try:
            self._portal.call(self._aclose(timeout), timeout=timeout + 5)
        except Exception:  # the process is ending; what is still buffered goes to the journal
            self._spill_all()

    async def _aclose(self, timeout: float) -> None:
        await self.aflush(deadline=timeout)
        if self._orchestrator is not None:
            with contextlib.suppress(Exception):
                await self._orchestrator.aclose()

    # -- the writer, on the portal loop -----------------------------------------------------------
    def _start(self, started: threading.Event) -> None:
        self._send_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._portal.loop.create_task(self._run(), name="headwater-recorder")
        started.set()

    def _wake_up(self) -> None:
        assert self._wake is not None
        self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None and self._send_lock is not None
        next_beat = time.monotonic() + self._heartbeat_interval
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            self._signalled = False
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + self._heartbeat_interval
                now = datetime.now(UTC)
                for run_id in list(self._active_runs):
                    self._items.append((HEARTBEAT, run_id, now))
            if self._items or not self._journal_checked:
                try:
                    async with self._send_lock:
                        await self._drain(deadline=None)
                except Exception:  # never let the writer die; the next round retries
                    _log.exception("Recording failed; will retry")

    async def _orch(self) -> Orchestrator:
        if self._orchestrator is None:
            self._orchestrator = await self._connect()
        return self._orchestrator

    async def _drain(self, deadline: float | None) -> None:
        """Send batches until the buffer is empty; give up (journal) after `deadline` seconds."""
        give_up_at = None if deadline is None else time.monotonic() + deadline
        if not self._journal_checked:
            if not await self._replay_journal(give_up_at):
                self._spill_all()
                return
            self._journal_checked = True
        while self._items:
            items = [self._items.popleft() for _ in range(min(self._batch_size, len(self._items)))]
            batch = build_batch(items)
            if not await self._send(batch, give_up_at):
                self._journal.write(batch)
                self._journal_checked = False
                self._spill_all()
                return

    async def _send(self, batch: RecordBatch, give_up_at: float | None) -> bool:
        delay = 0.05
        while True:
            try:
                await (await self._orch()).record(batch)
                if self._failing_since is not None:
                    _log.warning("Recording resumed after %.1f s.", time.monotonic() - self._failing_since)
                    self._failing_since = None
                return True
            except Exception as exc:
                if self._failing_since is None:
                    self._failing_since = time.monotonic()
                    _log.warning("Could not record %d items (%s); retrying.", len(batch), exc)
                if give_up_at is not None and time.monotonic() + delay > give_up_at:
                    return False
                if len(self._items) > self._buffer_max:
                    return False  # the buffer is too big to keep in memory: journal it
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _replay_journal(self, give_up_at: float | None) -> bool:
        for claimed, batch in self._journal.claim_all():
            if not await self._send(batch, give_up_at):
                self._journal.release(claimed)
                return False
            self._journal.done(claimed)
        return True

    def _spill_all(self) -> None:
        while self._items:
            items = [self._items.popleft() for _ in range(min(self._batch_size, len(self._items)))]
            self._journal.write(build_batch(items))


_recorder: Recorder | None = None
_recorder_lock = threading.Lock()


def get_recorder() -> Recorder:
    """The process's recorder, created (with its orchestrator connection) on first use."""
    global _recorder
    if _recorder is None:
        with _recorder_lock:
            if _recorder is None:
                from headwater._wiring import create_recorder

                _recorder = create_recorder()
                atexit.register(_recorder.close)
    return _recorder


def reset_recorder() -> None:
    """Close the process's recorder (flushing it); the next use opens a new one from the settings."""
    global _recorder
    with _recorder_lock:
        if _recorder is not None:
            _recorder.close()
            with contextlib.suppress(ValueError):
                atexit.unregister(_recorder.close)
        _recorder = None


def _forget_after_fork() -> None:
    global _recorder, _recorder_lock
    _recorder = None
    _recorder_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
