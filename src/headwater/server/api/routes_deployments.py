"""Deployments, and the runs created from them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from headwater.schemas.deployments import (
    Deployment,
    DeploymentApplied,
    DeploymentCreate,
    DeploymentFilter,
    DeploymentFlowRunCreate,
    DeploymentUpdate,
)
from headwater.schemas.objects import FlowRun
from headwater.server.api.dependencies import get_db
from headwater.server.services import deployment_runs, deployments
from headwater.server.storage.database import Database

router = APIRouter(prefix="/deployments", tags=["deployments"])
Db = Annotated[Database, Depends(get_db)]


@router.post("/", status_code=status.HTTP_201_CREATED)
async def apply_deployment(create: DeploymentCreate, db: Db, response: Response) -> DeploymentApplied:
    """Create a deployment (201), or update the one of this flow with this name in place (200). A work pool
    it names that does not exist is created as a `process` pool."""
    applied = await deployments.apply_deployment(db, create)
    if not applied.created:
        response.status_code = status.HTTP_200_OK
    return applied


@router.post("/filter")
async def filter_deployments(db: Db, deployment_filter: DeploymentFilter | None = None) -> list[Deployment]:
    """Deployments matching a filter, by flow name then name."""
    return await deployments.read_deployments(db, deployment_filter or DeploymentFilter())


@router.get("/name/{flow_name}/{deployment_name}")
async def read_deployment_by_name(flow_name: str, deployment_name: str, db: Db) -> Deployment:
    """A deployment by its flow's name and its own."""
    return await deployments.read_deployment_by_name(db, f"{flow_name}/{deployment_name}")


@router.get("/{deployment_id}")
async def read_deployment(deployment_id: UUID, db: Db) -> Deployment:
    """One deployment."""
    return await deployments.read_deployment(db, deployment_id)


@router.patch("/{deployment_id}")
async def update_deployment(deployment_id: UUID, update: DeploymentUpdate, db: Db) -> Deployment:
    """Change some fields of a deployment (pause, resume, description, concurrency limit)."""
    return await deployments.update_deployment(db, deployment_id, update)


@router.delete("/{deployment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_deployment(deployment_id: UUID, db: Db) -> None:
    """Delete a deployment and its runs that have not started; runs that started stay."""
    await deployments.delete_deployment(db, deployment_id)


@router.post("/{deployment_id}/create_flow_run", status_code=status.HTTP_201_CREATED)
async def create_flow_run_from_deployment(
    deployment_id: UUID, db: Db, create: DeploymentFlowRunCreate | None = None
) -> FlowRun:
    """A new run of a deployment, its parameters merged over the deployment's and checked against its
    schema (409 naming each problem). With an idempotency key, the first run made with it is returned."""
    return await deployment_runs.create_flow_run_from_deployment(db, deployment_id, create or DeploymentFlowRunCreate())
