"""The crash-detection loop, running inside the app: a RUNNING flow run whose heartbeats stopped is
marked CRASHED with a message saying why; runs that still beat, or have finished, are left alone."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from api_support import Serve, body, history, ok

from headwater.core.states import StateType
from headwater.schemas.actions import Heartbeat, RecordBatch
from headwater.schemas.states import StateCreate

if TYPE_CHECKING:
    from conftest import Factory

S = StateType


async def test_silent_running_runs_are_marked_crashed(serve: Serve, make: Factory) -> None:
    now = datetime.now(UTC)
    long_ago = now - timedelta(hours=1)
    silent = make.flow_run("etl", StateCreate(type=S.RUNNING, timestamp=long_ago))
    beating = make.flow_run("etl", StateCreate(type=S.RUNNING, timestamp=long_ago))
    finished = make.flow_run("etl", StateCreate(type=S.RUNNING, timestamp=long_ago))
    batch = RecordBatch(
        flow_runs=[silent, beating, finished],
        flow_run_states=[make.record(finished.id, StateCreate(type=S.COMPLETED, timestamp=long_ago))],
        heartbeats=[
            Heartbeat(flow_run_id=silent.id, timestamp=long_ago + timedelta(seconds=1)),
            Heartbeat(flow_run_id=beating.id, timestamp=now),
        ],
    )
    async with serve(run_loops=True, crash_detection_grace_seconds=60, crash_detection_loop_seconds=0.05) as client:
        ok(await client.post("/api/records/", json=body(batch)), 204)
        deadline = time.monotonic() + 20
        while ok(await client.get(f"/api/flow_runs/{silent.id}"))["state_type"] != "CRASHED":
            assert time.monotonic() < deadline, "the silent run was not marked CRASHED"
            await asyncio.sleep(0.05)
        crashed = ok(await client.get(f"/api/flow_runs/{silent.id}"))
        assert "No heartbeat for over 60 seconds" in crashed["state"]["message"]
        assert await history(client, "flow_run", silent.id) == ["RUNNING", "CRASHED"]
        # A few more rounds of the loop leave the others alone.
        await asyncio.sleep(0.3)
        assert ok(await client.get(f"/api/flow_runs/{beating.id}"))["state_type"] == "RUNNING"
        assert ok(await client.get(f"/api/flow_runs/{finished.id}"))["state_type"] == "COMPLETED"
        assert await history(client, "flow_run", silent.id) == ["RUNNING", "CRASHED"]  # marked once
