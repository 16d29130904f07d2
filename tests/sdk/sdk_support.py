"""Helpers shared by the SDK tests: reading back what runs recorded, and polling for a condition."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from headwater._wiring import call
from headwater.schemas.filters import FlowRunFilter, LogFilter, TaskRunFilter
from headwater.schemas.objects import FlowRun, Log, TaskRun
from headwater.schemas.states import StateSchema

T = TypeVar("T")


class Records:
    """What the store holds, read through the same orchestrator the SDK records to.

    Args:
        since: only flow runs the store received from then on (a server shared by several tests
            holds their runs too).
    """

    def __init__(self, since: datetime | None = None) -> None:
        self.since = since

    def flow_run(self, flow_run_id: UUID) -> FlowRun:
        return call(lambda o: o.read_flow_run(flow_run_id))

    def flow_runs(self, **filters: Any) -> list[FlowRun]:
        if self.since is not None:
            filters.setdefault("created_after", self.since)
        return call(lambda o: o.read_flow_runs(FlowRunFilter(**filters)))

    def only_flow_run(self, **filters: Any) -> FlowRun:
        runs = self.flow_runs(**filters)
        assert len(runs) == 1, runs
        return runs[0]

    def flow_run_states(self, flow_run_id: UUID) -> list[StateSchema]:
        return call(lambda o: o.read_flow_run_states(flow_run_id))

    def task_runs(self, flow_run_id: UUID) -> list[TaskRun]:
        return call(lambda o: o.read_task_runs(TaskRunFilter(flow_run_id=[flow_run_id])))

    def task_run(self, task_run_id: UUID) -> TaskRun:
        runs = call(lambda o: o.read_task_runs(TaskRunFilter(id=[task_run_id])))
        assert len(runs) == 1, runs
        return runs[0]

    def task_run_states(self, task_run_id: UUID) -> list[StateSchema]:
        return call(lambda o: o.read_task_run_states(task_run_id))

    def logs(self, flow_run_id: UUID, **filters: Any) -> list[Log]:
        return call(lambda o: o.read_logs(LogFilter(flow_run_id=[flow_run_id], **filters)))

    def messages(self, flow_run_id: UUID, **filters: Any) -> list[str]:
        return [log.message for log in self.logs(flow_run_id, **filters)]


def state_names(states: list[StateSchema]) -> list[str]:
    """The names of states, oldest first."""
    return [s.name for s in sorted(states, key=lambda s: s.timestamp)]


def is_subsequence(expected: list[str], actual: list[str]) -> bool:
    """Whether `expected` appears in `actual` in order (other items may come between)."""
    remaining = iter(actual)
    return all(any(item == got for got in remaining) for item in expected)


def wait_until(condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.05) -> T:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {condition}")
        time.sleep(interval)
