"""Flows: known by their name, created on first use."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID, uuid4

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from headwater.exceptions import ObjectNotFound
from headwater.schemas._base import now_utc
from headwater.schemas.objects import Flow
from headwater.server.services._runs import chunks
from headwater.server.storage.database import Database, insert_ignore
from headwater.server.storage.tables import flows


async def ensure_flows(db: Database, names: Iterable[str]) -> dict[str, UUID]:
    """Create the flows that do not exist yet.

    Args:
        db: The store.
        names: Flow names; repeats are fine.

    Returns:
        The id of every flow named, by name.
    """
    async with db.write() as conn:
        return await ensure_flow_ids(conn, names)


async def ensure_flow_ids(conn: AsyncConnection, names: Iterable[str]) -> dict[str, UUID]:
    """`ensure_flows` inside the caller's write transaction."""
    wanted = sorted(set(names))
    ids = await _flow_ids(conn, wanted)
    missing = [name for name in wanted if name not in ids]
    if missing:
        now = now_utc()
        # Another writer may create the same flow meanwhile (on PostgreSQL): the insert then skips it and
        # the select below finds the other writer's id.
        await conn.execute(
            insert_ignore(conn.dialect.name, flows),
            [{"id": uuid4(), "name": name, "tags": [], "created": now, "updated": now} for name in missing],
        )
        ids.update(await _flow_ids(conn, missing))
    return ids


async def _flow_ids(conn: AsyncConnection, names: list[str]) -> dict[str, UUID]:
    ids: dict[str, UUID] = {}
    for chunk in chunks(names):
        result = await conn.execute(sa.select(flows.c.name, flows.c.id).where(flows.c.name.in_(chunk)))
        ids.update({name: flow_id for name, flow_id in result})
    return ids


async def read_flows(db: Database) -> list[Flow]:
    """Every flow, by name."""
    async with db.read() as conn:
        result = await conn.execute(sa.select(flows).order_by(flows.c.name))
        return [Flow.model_validate(row._asdict()) for row in result]


async def read_flow(db: Database, flow_id: UUID) -> Flow:
    """One flow, by id.

    Raises:
        ObjectNotFound: No flow has this id.
    """
    async with db.read() as conn:
        row = (await conn.execute(sa.select(flows).where(flows.c.id == flow_id))).first()
    if row is None:
        raise ObjectNotFound(f"no flow with id {flow_id}")
    return Flow.model_validate(row._asdict())


async def read_flow_by_name(db: Database, name: str) -> Flow:
    """One flow, by name.

    Raises:
        ObjectNotFound: No flow has this name.
    """
    async with db.read() as conn:
        row = (await conn.execute(sa.select(flows).where(flows.c.name == name))).first()
    if row is None:
        raise ObjectNotFound(f"no flow named {name!r}")
    return Flow.model_validate(row._asdict())
