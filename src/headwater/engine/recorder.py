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
import gc
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from headwater.engine.journal import Journal
from headwater.engine.portal import Portal
from headwater.utilities.ids import new_id

if TYPE_CHECKING:
    from headwater.client.base import Orchestrator
    from headwater.schemas.actions import LogCreate, RecordBatch
    from headwater.schemas.states import StateCreate
    from headwater.states import State

# Record kinds: the first item of each tuple in the buffer.
FLOW_RUN, FLOW_STATE, TASK_RUN, TASK_STATE, LOG, HEARTBEAT = range(6)

_log = logging.getLogger("headwater.recorder")

CANCEL_CHECK_SECONDS = 1.0
"""How often a flow run started in this process asks whether it was cancelled from elsewhere."""

_M = TypeVar("_M")
_new = object.__new__
_set = object.__setattr__


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
    """Turn buffered tuples into the wire batch (runs on the portal loop, not the hot path).

    The tuples come from the engine, which builds them from values of the right types: the models are
    made without validation (`_Models`), which for tens of thousands of nested objects per batch cost
    more than everything else the writer does. Flow runs (a few, with user parameters) and log lines
    with unexpected values are validated as usual.
    """
    models = _Models.get()
    state = models.state
    trusted = models.trusted
    flow_runs: list[Any] = []
    task_runs: list[Any] = []
    flow_states: list[Any] = []
    task_states: list[Any] = []
    logs: list[Any] = []
    beats: list[Any] = []
    # No cyclic garbage is made here, but the allocations would start collections, and full ones walk
    # every live object of the process (the flow's too): paused while the batch is built. Process-wide,
    # but brief; GC left off by the application stays off.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for item in items:
            kind = item[0]
            if kind == TASK_STATE:
                task_states.append(
                    trusted(models.RunStateRecord, {"run_id": item[1], "state": state(item[2]), "run_count": item[3]})
                )
            elif kind == TASK_RUN:
                _, run_id, name, flow_run_id, task_key, dynamic_key, tags, cache_key, child_id, initial, _count = item
                task_runs.append(
                    trusted(
                        models.TaskRunCreate,
                        {
                            "id": run_id,
                            "name": name,
                            "flow_run_id": flow_run_id,
                            "task_key": task_key,
                            "dynamic_key": str(dynamic_key),
                            "cache_key": cache_key,
                            "tags": list(tags),
                            "child_flow_run_id": child_id,
                            "state": state(initial),
                        },
                    )
                )
            elif kind == LOG:
                logs.append(models.log(item))
            elif kind == FLOW_STATE:
                flow_states.append(
                    trusted(models.RunStateRecord, {"run_id": item[1], "state": state(item[2]), "run_count": item[3]})
                )
            elif kind == FLOW_RUN:
                flow_runs.append(models.FlowRunCreate.model_validate(item[1]))
            elif kind == HEARTBEAT:
                beats.append(trusted(models.Heartbeat, {"flow_run_id": item[1], "timestamp": item[2]}))
        return trusted(
            models.RecordBatch,
            {
                "flow_runs": flow_runs,
                "task_runs": task_runs,
                "flow_run_states": flow_states,
                "task_run_states": task_states,
                "logs": logs,
                "heartbeats": beats,
            },
        )
    finally:
        if gc_was_enabled:
            gc.enable()


class _Models:
    """Makes the wire models of a batch from values the engine vouches for, without validating them.

    `trusted(cls, values)` is what pydantic's `model_construct` does for a model without defaults to fill,
    aliases, extras or post-init, minus its per-field loop: `values` must give every field, in declaration
    order (serialisation follows it), with a value of the field's type. The schemas are imported on first
    use, as before: importing the SDK does not load them.
    """

    _instance: _Models | None = None

    def __init__(self) -> None:
        from headwater.schemas.actions import (
            FlowRunCreate,
            Heartbeat,
            LogCreate,
            RecordBatch,
            RunStateRecord,
            TaskRunCreate,
        )
        from headwater.schemas.states import StateCreate, StateDetails

        self.FlowRunCreate = FlowRunCreate
        self.Heartbeat = Heartbeat
        self.LogCreate = LogCreate
        self.RecordBatch = RecordBatch
        self.RunStateRecord = RunStateRecord
        self.TaskRunCreate = TaskRunCreate
        self.StateCreate = StateCreate
        self.StateDetails = StateDetails
        self._fields: dict[type[Any], set[str]] = {}
        for cls in (Heartbeat, LogCreate, RecordBatch, RunStateRecord, TaskRunCreate, StateCreate, StateDetails):
            if cls.__pydantic_post_init__ is not None or cls.model_config.get("extra") == "allow":
                raise TypeError(f"{cls.__name__} needs what `trusted` skips (post-init, extras)")
            self._fields[cls] = set(cls.model_fields)

    @classmethod
    def get(cls) -> _Models:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def trusted(self, cls: type[_M], values: dict[str, Any]) -> _M:
        """An instance of `cls` holding `values` as they are (see the class)."""
        model = _new(cls)
        _set(model, "__dict__", values)
        # A copy per model: pydantic adds to it when a field is assigned.
        _set(model, "__pydantic_fields_set__", self._fields[cls].copy())
        _set(model, "__pydantic_extra__", None)
        _set(model, "__pydantic_private__", None)
        return model

    def state(self, state: State[Any]) -> StateCreate:
        """A state as a `StateCreate` (what validating `state_payload(state)` gives)."""
        details = self.trusted(
            self.StateDetails,
            {
                "scheduled_time": state.scheduled_time,
                "cache_key": state.cache_key,
                "cache_expiration": None,
                "retriable": None,
                "child_flow_run_id": None,
            },
        )
        return self.trusted(
            self.StateCreate,
            {
                "id": state.id,
                "type": state.type,
                "name": state.name,
                "timestamp": state.timestamp,
                "message": state.message,
                "data": state.result_ref,
                "details": details,
            },
        )

    def log(self, item: tuple[Any, ...]) -> LogCreate:
        """A buffered log line as a `LogCreate`; validated if a value a logging call passed is unexpected."""
        _, log_id, name, level, message, created, flow_run_id, task_run_id = item
        values = {
            "id": log_id,
            "name": name,
            "level": level,
            "message": message,
            "timestamp": datetime.fromtimestamp(created, UTC),
            "flow_run_id": flow_run_id,
            "task_run_id": task_run_id,
        }
        # The run ids come from the logging call's `extra`, which user code could set too.
        if (
            type(name) is str
            and type(level) is int
            and type(message) is str
            and (flow_run_id is None or isinstance(flow_run_id, UUID))
            and (task_run_id is None or isinstance(task_run_id, UUID))
        ):
            return self.trusted(self.LogCreate, values)
        return self.LogCreate.model_validate(values)


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
        self._cancel_watch: dict[UUID, Callable[[], None]] = {}
        self._cancel_check: asyncio.Task[None] | None = None
        self._closed = False
        self._send_lock: asyncio.Lock | None = None
        self._flushers = 0  # flushes waiting for the send lock: the background writer yields to them
        self._wake: asyncio.Event | None = None
        self._handover: asyncio.Event | None = None  # set while a flush waits for the send lock
        self._flush_give_up_at: float | None = None  # the earliest deadline of the flushes waiting
        self._holding = False  # a batch taken from the buffer is being sent
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
        self._cancel_watch.pop(flow_run_id, None)

    def watch_cancellation(self, flow_run_id: UUID, on_cancel: Callable[[], None]) -> None:
        """Call `on_cancel()` (from the recorder's thread) once the orchestrator has the run CANCELLING or
        CANCELLED: how a flow run started in this process learns it was cancelled from elsewhere."""
        self._cancel_watch[flow_run_id] = on_cancel

    async def _check_cancellations_once(self) -> None:
        try:
            await asyncio.wait_for(self._check_cancellations(), CANCEL_CHECK_SECONDS * 5)
        except Exception:  # slow or failing: the next round looks again
            pass
        finally:
            self._cancel_check = None

    async def _check_cancellations(self) -> None:
        from headwater.core.states import StateType

        for run_id, on_cancel in list(self._cancel_watch.items()):
            try:
                run = await (await self._orch()).read_flow_run(run_id)
            except Exception:  # not stored yet, or the orchestrator is unreachable: look again later
                continue
            cancelled = run.state_type in (StateType.CANCELLING, StateType.CANCELLED)
            if cancelled and self._cancel_watch.pop(run_id, None) is not None:
                on_cancel()

    # -- flushing ---------------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> None:
        """Write everything buffered so far and wait until it is written; whatever cannot be delivered
        within `timeout` seconds (default: `record_flush_timeout_seconds`) goes to the journal."""
        if self._portal.in_portal():
            raise RuntimeError("flush() from the portal thread; use aflush()")
        self._portal.call(self.aflush(deadline=self._flush_timeout if timeout is None else timeout))

    async def aflush(self, deadline: float | None = None) -> None:
        """Write everything buffered; after `deadline` seconds of failing, journal the rest."""
        assert self._send_lock is not None and self._handover is not None
        give_up_at = None if deadline is None else time.monotonic() + deadline
        # The background writer, retrying without a deadline, hands over to a waiting flush; a write it
        # has in flight is abandoned (and kept) once this flush's deadline passes.
        self._flushers += 1
        if give_up_at is not None:
            self._flush_give_up_at = min(give_up_at, self._flush_give_up_at or give_up_at)
        self._handover.set()
        try:
            await self._send_lock.acquire()
        finally:
            self._flushers -= 1
            if not self._flushers:
                self._handover.clear()
                self._flush_give_up_at = None
        try:
            await self._drain(None if give_up_at is None else max(0.0, give_up_at - time.monotonic()))
        finally:
            self._send_lock.release()

    def close(self, timeout: float | None = None) -> None:
        """Flush (journaling what cannot be delivered within `timeout` seconds, by default
        `record_flush_timeout_seconds`) and stop."""
        if self._closed:
            return
        self._closed = True
        timeout = self._flush_timeout if timeout is None else timeout
        try:
            self._portal.call(self._aclose(timeout), timeout=timeout + 5)
        except Exception:  # the process is ending; what is still buffered goes to the journal
            self._spill_all()

    async def _aclose(self, timeout: float) -> None:
        if self._items or self._holding or self._failing_since is None:
            await self.aflush(deadline=timeout)
        # else: nothing unsent but the journal, and the orchestrator did not answer the last try: the
        # journal waits for the next process, rather than this one spending `timeout` s at exit on it.
        if self._orchestrator is not None:
            with contextlib.suppress(Exception):
                await self._orchestrator.aclose()

    # -- the writer, on the portal loop -----------------------------------------------------------
    def _start(self, started: threading.Event) -> None:
        self._send_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._handover = asyncio.Event()
        self._portal.loop.create_task(self._run(), name="headwater-recorder")
        started.set()

    def _wake_up(self) -> None:
        assert self._wake is not None
        self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None and self._send_lock is not None
        next_beat = time.monotonic() + self._heartbeat_interval
        next_cancel_check = time.monotonic() + CANCEL_CHECK_SECONDS
        while not self._closed:  # a closed recorder's writer ends (close() flushes what is left)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            self._signalled = False
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + self._heartbeat_interval
                now = datetime.now(UTC)
                for run_id in list(self._active_runs):
                    self._items.append((HEARTBEAT, run_id, now))
            if self._cancel_watch and time.monotonic() >= next_cancel_check and self._cancel_check is None:
                # Beside the writer, never in its way: an orchestrator that hangs must not stop recording.
                next_cancel_check = time.monotonic() + CANCEL_CHECK_SECONDS
                self._cancel_check = asyncio.get_running_loop().create_task(self._check_cancellations_once())
            if self._items or not self._journal_checked:
                try:
                    async with self._send_lock:
                        await self._drain(deadline=None, background=True)
                except Exception:  # never let the writer die; the next round retries
                    _log.exception("Recording failed; will retry")

    async def _orch(self) -> Orchestrator:
        if self._orchestrator is None:
            self._orchestrator = await self._connect()
        return self._orchestrator

    async def _drain(self, deadline: float | None, background: bool = False) -> None:
        """Send batches until the buffer is empty; give up (journal) after `deadline` seconds.

        `background`: the writer's own rounds, which retry without a deadline but stop (keeping what
        they hold, in order) as soon as a flush waits, so a flush's deadline is never held up.
        """
        give_up_at = None if deadline is None else time.monotonic() + deadline
        if not self._journal_checked:
            if not await self._replay_journal(give_up_at, background):
                if not self._handing_over(background):
                    self._spill_all()
                return
            self._journal_checked = True
        while self._items:
            items = [self._items.popleft() for _ in range(min(self._batch_size, len(self._items)))]
            batch = build_batch(items)
            self._holding = True
            try:
                sent = await self._send(batch, give_up_at, background)
            finally:
                self._holding = False
            if not sent:
                if self._handing_over(background):
                    self._items.extendleft(reversed(items))
                    return
                self._journal.write(batch)
                self._journal_checked = False
                self._spill_all()
                return

    def _handing_over(self, background: bool) -> bool:
        """Whether a background round should stop for a waiting flush (rather than journal)."""
        return background and self._flushers > 0

    async def _send(self, batch: RecordBatch, give_up_at: float | None, background: bool = False) -> bool:
        delay = 0.05
        while True:
            try:
                await self._attempt(batch, give_up_at, background)
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
                if background:
                    assert self._handover is not None
                    with contextlib.suppress(TimeoutError):  # back off, unless a flush comes
                        await asyncio.wait_for(self._handover.wait(), delay)
                    if self._handing_over(background):
                        return False  # the flush, with its deadline, takes over
                else:
                    await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _attempt(self, batch: RecordBatch, give_up_at: float | None, background: bool) -> None:
        """One write of a batch, abandoned at `give_up_at` (a server that accepts but never answers must
        not hold a flush past its deadline) or, for a background write, at the deadline of a flush that
        comes to wait for it."""
        assert self._handover is not None
        attempt = asyncio.ensure_future((await self._orch()).record(batch))
        try:
            while not attempt.done():
                limit = self._flush_give_up_at if background else give_up_at
                if limit is not None and time.monotonic() >= limit:
                    raise TimeoutError("no answer before the flush deadline")
                wake = asyncio.ensure_future(self._handover.wait()) if background and not self._flushers else None
                try:
                    await asyncio.wait(
                        [attempt] if wake is None else [attempt, wake],
                        timeout=None if limit is None else limit - time.monotonic(),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                finally:
                    if wake is not None:
                        wake.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await wake
            attempt.result()
        finally:
            if not attempt.done():
                attempt.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await attempt

    async def _replay_journal(self, give_up_at: float | None, background: bool = False) -> bool:
        for claimed, batch in self._journal.claim_all():
            if not await self._send(batch, give_up_at, background):
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
