"""What `headwater flow-run inspect` shows of one flow run, and how it is read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from headwater.cli._store import call_store, pages
from headwater.schemas.filters import MAX_LIMIT, FlowRunFilter, FlowRunSort, TaskRunFilter
from headwater.schemas.objects import FlowRun, TaskRun
from headwater.schemas.states import StateSchema

TASK_RUN_PAGE = MAX_LIMIT * 10
"""The largest page `TaskRunFilter` allows."""


@dataclass(frozen=True)
class FlowRunDetails:
    """A flow run with its state history, its task runs and its subflow runs (both oldest first).

    `more_task_runs` / `more_subflow_runs` say that the lists were cut at the limit the caller gave.
    """

    flow_run: FlowRun
    state_history: list[StateSchema]
    task_runs: list[TaskRun]
    subflow_runs: list[FlowRun]
    more_task_runs: bool = False
    more_subflow_runs: bool = False
    waiting_reason: str | None = None
    """Why a SCHEDULED or PENDING run of a work pool has not started (paused, no worker online …)."""

    def to_json(self) -> dict[str, Any]:
        """The details as plain JSON-compatible data (each object as the API returns it)."""
        return {
            "flow_run": self.flow_run.model_dump(mode="json"),
            "state_history": [state.model_dump(mode="json") for state in self.state_history],
            "task_runs": [task_run.model_dump(mode="json") for task_run in self.task_runs],
            "subflow_runs": [run.model_dump(mode="json") for run in self.subflow_runs],
            "waiting_reason": self.waiting_reason,
        }


def read_details(flow_run_id: UUID, *, max_children: int | None) -> FlowRunDetails:
    """Read a flow run and everything `inspect` shows about it; exits with "No flow run with id …" when
    there is none.

    Args:
        flow_run_id: The run.
        max_children: Read at most this many task runs and subflow runs; `None` reads them all.
    """
    flow_run = call_store(lambda o: o.read_flow_run(flow_run_id), not_found=f"No flow run with id {flow_run_id}")
    states = call_store(lambda o: o.read_flow_run_states(flow_run_id))
    # One more than asked for tells whether there are more.
    fetch = None if max_children is None else max_children + 1

    def task_run_page(offset: int, size: int) -> list[TaskRun]:
        task_run_filter = TaskRunFilter(flow_run_id=[flow_run_id], limit=size, offset=offset)
        return call_store(lambda o: o.read_task_runs(task_run_filter))

    def subflow_run_page(offset: int, size: int) -> list[FlowRun]:
        flow_run_filter = FlowRunFilter(
            parent_flow_run_id=flow_run_id, sort=FlowRunSort.START_TIME_ASC, limit=size, offset=offset
        )
        return call_store(lambda o: o.read_flow_runs(flow_run_filter))

    from headwater.cli._waiting import why_waiting

    waiting_reason = call_store(lambda o: why_waiting(o, flow_run))
    task_runs = [run for page in pages(task_run_page, page_size=TASK_RUN_PAGE, limit=fetch) for run in page]
    subflow_runs = [run for page in pages(subflow_run_page, page_size=MAX_LIMIT, limit=fetch) for run in page]
    return FlowRunDetails(
        flow_run=flow_run,
        state_history=states,
        task_runs=task_runs[:max_children],
        subflow_runs=subflow_runs[:max_children],
        more_task_runs=fetch is not None and len(task_runs) == fetch,
        more_subflow_runs=fetch is not None and len(subflow_runs) == fetch,
        waiting_reason=waiting_reason,
    )
