"""Flows: created on first use, read by id and name."""

from __future__ import annotations

import uuid

import pytest

from headwater.exceptions import ObjectNotFound
from headwater.server.services import flows
from headwater.server.storage.database import Database


async def test_ensure_flows_creates_missing_flows_once(db: Database) -> None:
    first = await flows.ensure_flows(db, ["etl", "report", "etl"])
    again = await flows.ensure_flows(db, ["report", "etl", "new"])
    assert set(first) == {"etl", "report"}
    assert again["etl"] == first["etl"] and again["report"] == first["report"]
    assert [flow.name for flow in await flows.read_flows(db)] == ["etl", "new", "report"]


async def test_read_flow_by_id_and_name(db: Database) -> None:
    ids = await flows.ensure_flows(db, ["etl"])
    by_id = await flows.read_flow(db, ids["etl"])
    by_name = await flows.read_flow_by_name(db, "etl")
    assert by_id == by_name
    assert by_id.name == "etl" and by_id.tags == [] and by_id.created is not None


async def test_unknown_flows_are_not_found(db: Database) -> None:
    with pytest.raises(ObjectNotFound, match="no flow with id"):
        await flows.read_flow(db, uuid.uuid4())
    with pytest.raises(ObjectNotFound, match="no flow named 'nope'"):
        await flows.read_flow_by_name(db, "nope")
