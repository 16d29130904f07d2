"""Helpers for the deployment tests: deployments to apply, runs to create and claim, in a few words."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from headwater.core.states import StateType
from headwater.schemas.deployments import (
    Deployment,
    DeploymentCreate,
    DeploymentFlowRunCreate,
    DeploymentScheduleCreate,
    ScheduleSpec,
)
from headwater.schemas.objects import FlowRun
from headwater.schemas.responses import OrchestrationResult
from headwater.schemas.states import StateCreate
from headwater.server.services import deployment_runs, deployments
from headwater.server.services.orchestration import set_flow_run_state
from headwater.server.storage.database import Database

ETL_SCHEMA: dict[str, Any] = {
    "title": "Parameters",
    "type": "object",
    "properties": {
        "source": {"title": "Source", "type": "string"},
        "rows": {"title": "Rows", "type": "integer", "default": 10},
        "mode": {"title": "Mode", "enum": ["full", "delta"], "type": "string", "default": "full"},
        "limit": {"anyOf": [{"type": "number"}, {"type": "null"}], "default": None},
    },
    "required": ["source"],
}
"""The parameter schema pydantic makes for `def etl(source: str, rows: int = 10, mode: Literal[...] = 'full',
limit: float | None = None)`."""


def create(name: str = "nightly", flow_name: str = "etl", **kwargs: Any) -> DeploymentCreate:
    """A deployment of `flow_name` to apply, on the `local` pool unless told otherwise."""
    kwargs.setdefault("entrypoint", f"flows.py:{flow_name}")
    kwargs.setdefault("work_pool_name", "local")
    kwargs.setdefault("parameter_openapi_schema", ETL_SCHEMA)
    kwargs.setdefault("parameters", {"source": "s3"})
    return DeploymentCreate(name=name, flow_name=flow_name, **kwargs)


def cron(expression: str, timezone: str = "UTC", active: bool = True) -> DeploymentScheduleCreate:
    """A cron schedule to attach."""
    return DeploymentScheduleCreate(schedule=ScheduleSpec(cron=expression, timezone=timezone), active=active)


def every(seconds: float, anchor: datetime | None = None) -> DeploymentScheduleCreate:
    """An interval schedule to attach."""
    return DeploymentScheduleCreate(schedule=ScheduleSpec(interval=seconds, anchor_date=anchor))


async def deploy(db: Database, name: str = "nightly", flow_name: str = "etl", **kwargs: Any) -> Deployment:
    """Apply a deployment; the stored deployment."""
    return (await deployments.apply_deployment(db, create(name, flow_name, **kwargs))).deployment


async def run_of(db: Database, deployment: Deployment | UUID, **kwargs: Any) -> FlowRun:
    """A new run of a deployment."""
    deployment_id = deployment if isinstance(deployment, UUID) else deployment.id
    return await deployment_runs.create_flow_run_from_deployment(db, deployment_id, DeploymentFlowRunCreate(**kwargs))


async def propose(db: Database, run_id: UUID, state_type: StateType, **kwargs: Any) -> OrchestrationResult:
    """Propose a state for a flow run."""
    return await set_flow_run_state(db, run_id, StateCreate(type=state_type, **kwargs))


async def claim(db: Database, run_id: UUID) -> OrchestrationResult:
    """Claim a run as a worker does: propose PENDING."""
    return await propose(db, run_id, StateType.PENDING)


async def start(db: Database, run_id: UUID) -> None:
    """Claim a run and make it RUNNING; both must be accepted."""
    for state_type in (StateType.PENDING, StateType.RUNNING):
        result = await propose(db, run_id, state_type)
        assert result.status.value == "ACCEPT", result
