"""Run-time context helpers for users: `tags(...)` blocks and access to the current run context."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from headwater.engine.context import (
    FlowRunContext,
    TaskRunContext,
    current_flow_run,
    current_task_run,
)

_tags: ContextVar[frozenset[str]] = ContextVar("headwater_tags", default=frozenset())


def current_tags() -> frozenset[str]:
    """The tags of the enclosing `tags(...)` blocks."""
    return _tags.get()


@contextmanager
def tags(*names: str) -> Iterator[frozenset[str]]:
    """Add tags to every flow and task run started inside the block.

    Example: `with tags("nightly"): my_flow()`.
    """
    token = _tags.set(_tags.get() | frozenset(names))
    try:
        yield _tags.get()
    finally:
        _tags.reset(token)


def get_run_context() -> FlowRunContext | TaskRunContext:
    """The innermost run context here (task, else flow); raises outside of a run."""
    from headwater.exceptions import MissingContextError

    ctx = current_task_run() or current_flow_run()
    if ctx is None:
        raise MissingContextError("No flow or task run is executing here.")
    return ctx


__all__ = ["FlowRunContext", "TaskRunContext", "current_tags", "get_run_context", "tags"]
