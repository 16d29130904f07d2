"""A worker's start: find its work pool (and queues), creating what is missing and saying so."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from headwater.exceptions import HeadwaterHTTPError, InvalidInput, ObjectNotFound

if TYPE_CHECKING:
    from headwater.client.base import Orchestrator
    from headwater.schemas.work_pools import WorkPool

logger = logging.getLogger("headwater.workers")


async def setup_pool(
    orchestrator: Orchestrator,
    pool_name: str,
    queue_names: Sequence[str] | None,
    *,
    worker_type: str,
    create_if_missing: bool = True,
) -> WorkPool:
    """The pool the worker polls, created as a `worker_type` pool when missing (with a warning), and its
    queues `queue_names`, created when missing.

    Raises:
        ObjectNotFound: The pool does not exist and `create_if_missing` is false.
        InvalidInput: The pool is of another type than the worker's.
    """
    from headwater.schemas.work_pools import WorkPoolCreate, WorkQueueCreate

    try:
        pool = await orchestrator.read_work_pool(pool_name)
    except ObjectNotFound:
        if not create_if_missing:
            raise
        try:
            pool = await orchestrator.create_work_pool(WorkPoolCreate(name=pool_name, type=worker_type))
        except (InvalidInput, HeadwaterHTTPError):  # another worker created it meanwhile
            pool = await orchestrator.read_work_pool(pool_name)
        else:
            logger.warning("Work pool %r did not exist: created it as a %r pool.", pool.name, pool.type)
    if pool.type != worker_type:
        raise InvalidInput(
            f"Work pool {pool.name!r} is a {pool.type!r} pool; a {worker_type} worker serves {worker_type!r} pools."
        )
    if queue_names:
        existing = {queue.name for queue in await orchestrator.read_work_queues(pool.name)}
        for queue_name in queue_names:
            if queue_name not in existing:
                await orchestrator.create_work_queue(pool.name, WorkQueueCreate(name=queue_name))
                logger.warning("Work queue %r did not exist in work pool %r: created it.", queue_name, pool.name)
    if pool.paused:
        logger.warning(
            "Work pool %r is paused: no run starts until it is resumed (`headwater work-pool resume %s`).",
            pool.name,
            pool.name,
        )
    return pool
