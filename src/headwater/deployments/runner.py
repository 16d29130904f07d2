"""`flow.serve(...)` and `headwater.serve(...)`: deploy flows and run their runs from this process.

Served deployments go on a work pool (`serve` unless they name one), each in a queue of its own, and
a process worker in this process polls just those queues: the runs start in subprocesses here, as
soon as they are due, until Ctrl-C.
"""

from __future__ import annotations

import logging
import os
import socket

from headwater.deployments.base import Deployment

SERVE_POOL = "serve"
_log = logging.getLogger("headwater.deployments")


def serve(*deployments: Deployment, limit: int | None = None) -> None:
    """Apply the deployments and run their runs here until interrupted.

    Args:
        deployments: from `flow.to_deployment(...)`.
        limit: most runs executing at once.
    """
    from headwater.workers.process import ProcessWorker

    if not deployments:
        raise ValueError("serve() needs at least one deployment: serve(my_flow.to_deployment('name')).")
    pools = {d.create.work_pool_name or SERVE_POOL for d in deployments}
    if len(pools) > 1:
        raise ValueError(f"serve() runs deployments of one work pool; these name {sorted(pools)}.")
    pool = pools.pop()
    queues: list[str] = []
    for deployment in deployments:
        queue = deployment.create.work_queue_name or f"serve-{deployment.create.flow_name}-{deployment.name}"
        deployment.create = deployment.create.model_copy(update={"work_pool_name": pool, "work_queue_name": queue})
        deployment.apply()
        queues.append(queue)
    names = ", ".join(repr(d.full_name) for d in deployments)
    _log.warning(
        "Serving %s. Start a run with `headwater deployment run <name>` or run_deployment(); Ctrl-C stops.", names
    )
    worker_name = f"serve-{socket.gethostname()}-{os.getpid()}"
    ProcessWorker(pool, work_queue_names=queues, limit=limit, name=worker_name).start()
