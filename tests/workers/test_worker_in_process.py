"""`ProcessWorker` used from Python: `await worker.run()` serves the pool until `await worker.stop()`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from worker_support import deploy

from headwater._wiring import connect
from headwater.core.states import StateType, is_terminal
from headwater.schemas.deployments import DeploymentFlowRunCreate
from headwater.schemas.objects import FlowRun
from headwater.testing.utilities import Harness
from headwater.workers import ProcessWorker

pytestmark = pytest.mark.slow


def test_run_and_stop_from_async_code(server: Harness, pool: str, tmp_path: Path) -> None:
    deployment = deploy(tmp_path, "greet", pool=pool)
    worker = ProcessWorker(pool, limit=2, name="in-process", poll_wait_seconds=5)

    async def scenario() -> FlowRun:
        serving = asyncio.create_task(worker.run())
        orchestrator = await connect()
        try:
            request = DeploymentFlowRunCreate(parameters={"name": "async"})
            run = await orchestrator.create_flow_run_from_deployment(deployment.id, request)
            async with asyncio.timeout(60):
                while not is_terminal(run.state_type):
                    run = await orchestrator.wait_for_flow_run(run.id, 5)
            await asyncio.wait_for(worker.stop(), 30)
            assert serving.done()
            await serving
            return run
        finally:
            serving.cancel()
            await orchestrator.aclose()

    run = asyncio.run(scenario())

    assert run.state_type is StateType.COMPLETED
    assert worker.work_pool is not None and worker.work_pool.name == pool


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="limit must be at least 1"):
        ProcessWorker("anything", limit=0)
