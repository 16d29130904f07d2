"""Headwater: write plain Python functions, decorate them with `@flow` and `@task`, and Headwater runs,
records and orchestrates them.

    from headwater import flow, task

    @task
    def add(x: int, y: int) -> int:
        return x + y

    @flow
    def pipeline() -> int:
        return add(1, 2)
"""

from headwater._version import __version__
from headwater.context import tags
from headwater.flows import Flow, flow
from headwater.futures import HeadwaterFuture
from headwater.logging import get_run_logger
from headwater.states import State
from headwater.tasks import Task, task
from headwater.utilities.annotations import unmapped


def serve(*deployments: object, limit: int | None = None) -> None:
    """Apply deployments (from `flow.to_deployment(...)`) and run their runs here until Ctrl-C."""
    from headwater.deployments.base import Deployment
    from headwater.deployments.runner import serve as _serve

    _serve(*[d for d in deployments if isinstance(d, Deployment)], limit=limit)


__all__ = [
    "Flow",
    "HeadwaterFuture",
    "State",
    "Task",
    "__version__",
    "flow",
    "get_run_logger",
    "serve",
    "tags",
    "task",
    "unmapped",
]
