"""Loggers for runs. A run logger tags each record with its flow run and task run, so the recording
handler knows where the line belongs."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from headwater.engine.context import FlowRunContext, TaskRunContext, flow_run_context, task_run_context
from headwater.exceptions import MissingContextError


class RunLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger bound to one run: adds the run's ids and label to every record."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        extra = dict(self.extra or {})
        if "extra" in kwargs:
            extra.update(kwargs["extra"])
        kwargs["extra"] = extra
        return msg, kwargs


def get_logger(name: str | None = None) -> logging.Logger:
    """A logger under the `headwater` namespace, configured on first use."""
    from headwater.logging.configuration import setup_logging

    setup_logging()
    return logging.getLogger("headwater" if not name else f"headwater.{name}")


def flow_run_logger(ctx: FlowRunContext) -> RunLogger:
    """The logger of a flow run."""
    run = ctx.flow_run
    return RunLogger(
        get_logger("flow_runs"),
        {
            "flow_run_id": run.id,
            "task_run_id": None,
            "run_label": f"Flow run {run.name!r}",
        },
    )


def task_run_logger(ctx: TaskRunContext) -> RunLogger:
    """The logger of a task run."""
    run = ctx.task_run
    return RunLogger(
        get_logger("task_runs"),
        {
            "flow_run_id": run.flow_run_id,
            "task_run_id": run.id,
            "run_label": f"Task run {run.name!r}",
        },
    )


def get_run_logger() -> RunLogger:
    """The logger of the flow or task run executing here: its lines are shown and recorded with the run.

    Raises:
        MissingContextError: when called outside a flow or task run.
    """
    task_ctx = task_run_context.get()
    if task_ctx is not None:
        return task_run_logger(task_ctx)
    flow_ctx = flow_run_context.get()
    if flow_ctx is not None:
        return flow_run_logger(flow_ctx)
    raise MissingContextError(
        "get_run_logger() was called outside of a flow or task run. Call it inside a function "
        "decorated with @flow or @task, or use logging.getLogger(...) elsewhere."
    )
