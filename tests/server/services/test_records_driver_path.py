"""The fast write path of records: what it hands the driver equals what SQLAlchemy would have, the
unvalidated batches the recorder builds equal validated ones, and the shortcuts keep batches idempotent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.dialects.sqlite import aiosqlite

from headwater.core.states import StateType
from headwater.engine import recorder as rec
from headwater.schemas.actions import RecordBatch
from headwater.schemas.states import StateCreate, StateDetails
from headwater.server.services import records, task_runs
from headwater.server.services._runs import current_state_json, current_state_values
from headwater.server.storage.database import Database
from headwater.server.storage.types import Timestamp, driver_format, json_dumps
from headwater.states import State

if TYPE_CHECKING:
    from conftest import Factory

S = StateType

DATETIMES = [
    datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2025, 1, 2, 3, 4, 5, 1, tzinfo=timezone(timedelta(hours=2))),
    datetime(2025, 1, 2, 3, 4, 5, 1),  # naive: UTC
]


@pytest.mark.parametrize("name", ["sqlite", "postgresql"])
def test_driver_values_are_those_sqlalchemy_binds(name: str) -> None:
    dialect: sa.Dialect = aiosqlite.dialect() if name == "sqlite" else asyncpg.dialect()  # type: ignore[no-untyped-call]
    fmt = driver_format(name)
    value = uuid.uuid4()
    uuid_bind = sa.Uuid().bind_processor(dialect)
    assert fmt.uuid(value) == (value if uuid_bind is None else uuid_bind(value))
    assert fmt.uuid(None) is None
    timestamp = Timestamp()
    timestamp_bind = timestamp.bind_processor(dialect)
    for moment in DATETIMES:
        if timestamp_bind is not None and name == "sqlite":  # what the driver gets: text
            expected = timestamp_bind(moment)
        else:  # asyncpg takes the (aware) datetime
            expected = timestamp.process_bind_param(moment, dialect)
        assert fmt.timestamp(moment) == expected, moment
    assert fmt.timestamp(None) is None
    payload = {"a": [1, 2.5, None], "at": DATETIMES[0], "id": value}
    assert fmt.json(payload) == json_dumps(payload)


def test_the_sqlite_text_of_timestamps_sorts_as_time() -> None:
    fmt = driver_format("sqlite")
    moments = sorted(DATETIMES, key=lambda m: m if m.tzinfo else m.replace(tzinfo=UTC))
    texts = [fmt.timestamp(m) for m in moments]
    assert texts == sorted(texts) and {len(t) for t in texts} == {26}


def _state(**kwargs: Any) -> StateCreate:
    return StateCreate(type=S.COMPLETED, timestamp=DATETIMES[0], **kwargs)


@pytest.mark.parametrize(
    "state",
    [
        _state(name="Completed"),
        _state(),  # unnamed: named after its type in the copy
        _state(name='Cached "x"', message="é\n", data={"k": [1, {"z": None}]}),
        _state(name="Scheduled", details=StateDetails(scheduled_time=DATETIMES[2], cache_key="c", retriable=True)),
        StateCreate(type=S.RUNNING, name="Running", timestamp=DATETIMES[3]),
    ],
)
def test_the_json_copy_of_a_state_is_the_dumped_state(state: StateCreate) -> None:
    assert current_state_json(state) == json_dumps(current_state_values(state)["state"])


def _validated(items: list[tuple[Any, ...]]) -> RecordBatch:
    """What `build_batch` gave before: the payloads, validated."""
    batch: dict[str, list[Any]] = {k: [] for k in RecordBatch.model_fields}
    for item in items:
        kind = item[0]
        if kind in (rec.TASK_STATE, rec.FLOW_STATE):
            key = "task_run_states" if kind == rec.TASK_STATE else "flow_run_states"
            batch[key].append({"run_id": item[1], "state": rec.state_payload(item[2]), "run_count": item[3]})
        elif kind == rec.TASK_RUN:
            _, run_id, name, flow_run_id, task_key, dynamic_key, tags, cache_key, child_id, initial, _ = item
            batch["task_runs"].append(
                {
                    "id": run_id,
                    "name": name,
                    "flow_run_id": flow_run_id,
                    "task_key": task_key,
                    "dynamic_key": str(dynamic_key),
                    "tags": tags,
                    "cache_key": cache_key,
                    "child_flow_run_id": child_id,
                    "state": rec.state_payload(initial),
                }
            )
        elif kind == rec.LOG:
            _, log_id, name, level, message, created, flow_run_id, task_run_id = item
            batch["logs"].append(
                {
                    "id": log_id,
                    "name": name,
                    "level": level,
                    "message": message,
                    "timestamp": datetime.fromtimestamp(created, UTC),
                    "flow_run_id": flow_run_id,
                    "task_run_id": task_run_id,
                }
            )
        elif kind == rec.FLOW_RUN:
            batch["flow_runs"].append(item[1])
        elif kind == rec.HEARTBEAT:
            batch["heartbeats"].append({"flow_run_id": item[1], "timestamp": item[2]})
    return RecordBatch.model_validate(batch)


def test_build_batch_gives_what_validation_gives() -> None:
    flow_run_id = uuid.uuid4()
    scheduled: State[Any] = State(S.SCHEDULED, scheduled_time=DATETIMES[0], message="later", result_ref={"key": "r"})
    items: list[tuple[Any, ...]] = [
        (
            rec.FLOW_RUN,
            {
                "id": flow_run_id,
                "name": "f-1",
                "flow_name": "f",
                "parameters": {"x": 1},
                "tags": ["t"],
                "parent_task_run_id": None,
                "state": rec.state_payload(State(S.RUNNING)),
            },
        ),
        (rec.TASK_RUN, uuid.uuid4(), "t-0", flow_run_id, "t", 0, [], None, None, State(S.RUNNING), 1),
        (rec.TASK_RUN, uuid.uuid4(), "t-1", flow_run_id, "t", "1", ["a", "b"], "ck", uuid.uuid4(), scheduled, 1),
        (rec.TASK_STATE, uuid.uuid4(), State(S.COMPLETED, cache_key="ck", result_ref={"path": "p"}), 2),
        (rec.FLOW_STATE, flow_run_id, State(S.FAILED, message="boom"), 1),
        (rec.LOG, uuid.uuid4(), "headwater.task", 20, "hi", 1_700_000_000.25, flow_run_id, uuid.uuid4()),
        (rec.LOG, uuid.uuid4(), "user", 30, "odd", 1_700_000_000.5, str(flow_run_id), None),  # validated
        (rec.HEARTBEAT, flow_run_id, DATETIMES[0]),
    ]
    built, validated = rec.build_batch(items), _validated(items)
    assert built == validated
    assert built.model_dump_json() == validated.model_dump_json()
    assert isinstance(built.logs[1].flow_run_id, uuid.UUID)
    for field in RecordBatch.model_fields:
        for model in getattr(built, field):
            assert list(model.__dict__) == list(type(model).model_fields)  # serialisation follows this order
            assert model.model_fields_set == set(type(model).model_fields)
    built.task_runs[0].name = "renamed"  # assignment works as on any model
    assert built.task_runs[0].name == "renamed" and validated.task_runs[0].name == "t-0"


async def test_a_batch_whose_runs_are_partly_stored_records_the_rest(
    db: Database, make: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run of the batch is new but a later one is stored: on SQLite the insert's row count
    gives it away, and the batch is written again after looking every run up."""
    writes: list[bool] = []
    write = records._write

    async def counted(db: Database, batch: RecordBatch, now: datetime, look_up_all: bool) -> None:
        writes.append(look_up_all)
        await write(db, batch, now, look_up_all)

    monkeypatch.setattr(records, "_write", counted)
    flow_run = make.flow_run(state=make.state(S.RUNNING, 0))
    stored = make.task_run(flow_run.id, make.state(S.RUNNING, 1), name="stored")
    await records.record_batch(db, RecordBatch(flow_runs=[flow_run], task_runs=[stored]))
    new = make.task_run(flow_run.id, make.state(S.RUNNING, 2), name="new")
    batch = RecordBatch(
        task_runs=[new, stored],
        task_run_states=[
            make.record(stored.id, make.state(S.COMPLETED, 3), run_count=1),
            make.record(new.id, make.state(S.COMPLETED, 4), run_count=1),
        ],
    )
    writes.clear()
    await records.record_batch(db, batch)
    assert writes == ([False, True] if db.dialect_name == "sqlite" else [False])
    for run, start, end in ((stored, 1, 3), (new, 2, 4)):
        read = await task_runs.read_task_run(db, run.id)
        assert (read.state_type, read.start_time, read.end_time, read.run_count) == (
            S.COMPLETED,
            make.at(start),
            make.at(end),
            1,
        )
        assert [s.type for s in await task_runs.read_task_run_states(db, run.id)] == [S.RUNNING, S.COMPLETED]
    assert (await task_runs.read_task_run(db, stored.id)).name == "stored"


async def test_stored_rows_read_back_as_sent(db: Database, make: Factory) -> None:
    flow_run = make.flow_run(state=make.state(S.RUNNING, 0))
    details = StateDetails(cache_key="k", cache_expiration=make.at(100), child_flow_run_id=uuid.uuid4())
    initial = make.state(S.PENDING, 1, name="Waiting", message="m", data={"path": "x"}, details=details)
    task_run = make.task_run(flow_run.id, initial, tags=["b", "a"], cache_key="k", child_flow_run_id=uuid.uuid4())
    await records.record_batch(db, RecordBatch(flow_runs=[flow_run], task_runs=[task_run]))
    read = await task_runs.read_task_run(db, task_run.id)
    assert (read.tags, read.cache_key, read.child_flow_run_id, read.flow_run_id) == (
        ["b", "a"],
        "k",
        task_run.child_flow_run_id,
        flow_run.id,
    )
    assert read.state is not None
    assert read.state.model_dump() == {**initial.model_dump(), "name": "Waiting"}
    [history] = await task_runs.read_task_run_states(db, task_run.id)
    assert history.model_dump() == read.state.model_dump()
