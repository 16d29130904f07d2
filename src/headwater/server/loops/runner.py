"""Runs the server's loops as asyncio tasks, each at its own interval, until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from headwater.server.settings import ServerSettings
from headwater.server.storage.database import Database

_log = logging.getLogger("headwater.server.loops")


class Loop(Protocol):
    """One periodic job."""

    name: str
    interval_seconds: float

    async def run_once(self) -> object:
        """Do one round of work."""
        ...


class LoopRunner:
    """Starts and stops a set of loops."""

    def __init__(self, loops: list[Loop]) -> None:
        self.loops = loops
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def for_server(cls, db: Database, settings: ServerSettings) -> LoopRunner:
        """The loops a server runs."""
        from headwater.server.loops.crash_detection import CrashDetection
        from headwater.server.loops.late_runs import LateRuns
        from headwater.server.loops.scheduler import Scheduler

        return cls(
            [
                CrashDetection(db, settings.crash_detection_grace_seconds, settings.crash_detection_loop_seconds),
                Scheduler(
                    db,
                    settings.scheduler_loop_seconds,
                    max_runs=settings.scheduler_max_runs,
                    min_runs=settings.scheduler_min_runs,
                    horizon_seconds=settings.scheduler_horizon_seconds,
                ),
                LateRuns(db, settings.late_runs_after_seconds, settings.late_runs_loop_seconds),
            ]
        )

    def start(self) -> None:
        """Start every loop on the running event loop."""
        for loop in self.loops:
            self._tasks.append(asyncio.create_task(self._forever(loop), name=f"headwater-loop-{loop.name}"))

    async def stop(self) -> None:
        """Stop every loop and wait for it."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _forever(self, loop: Loop) -> None:
        while True:
            try:
                await loop.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a failing round must not end the loop; the next round tries again
                _log.exception("Loop %s failed; retrying next round", loop.name)
            await asyncio.sleep(loop.interval_seconds)
