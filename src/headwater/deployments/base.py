"""`Deployment`: a flow made runnable by workers, on a work pool, with defaults and schedules.

    deployment = Deployment.build_from_flow(flow=etl, name="nightly", work_pool_name="default-agent-pool")
    deployment.apply()
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from uuid import UUID

from headwater.deployments.entrypoints import flow_entrypoint
from headwater.deployments.schedules import collect_schedules
from headwater.schemas.deployments import CollisionStrategy, DeploymentCreate, DeploymentScheduleCreate

if TYPE_CHECKING:
    from headwater.flows import Flow

_log = logging.getLogger("headwater.deployments")


def parameter_schema(flow: Flow[..., Any]) -> dict[str, Any]:
    """The JSON schema of a flow's parameters, from its signature and type hints."""
    from headwater.engine.parameters import parameters_model

    model = parameters_model(flow.fn)
    try:
        schema: dict[str, Any] = model.model_json_schema()
    except Exception:  # a hint pydantic cannot describe: keep names and which are required
        schema = {
            "type": "object",
            "properties": {name: {} for name in model.model_fields},
            "required": [name for name, field in model.model_fields.items() if field.is_required()],
        }
    schema["title"] = "Parameters"
    return schema


class Deployment:
    """A deployment of a flow, built locally and sent to the orchestrator with `apply()`."""

    def __init__(self, create: DeploymentCreate, flow: Flow[..., Any] | None = None) -> None:
        self.create = create
        self.flow = flow
        self.id: UUID | None = None

    def __repr__(self) -> str:
        return f"Deployment({self.create.flow_name}/{self.create.name})"

    @property
    def name(self) -> str:
        """The deployment's name."""
        return self.create.name

    @property
    def full_name(self) -> str:
        """`flow-name/deployment-name`, as `run_deployment` takes it."""
        return f"{self.create.flow_name}/{self.create.name}"

    @classmethod
    def build_from_flow(
        cls,
        flow: Flow[..., Any],
        name: str,
        version: str | int | None = None,
        work_queue_name: str | None = None,
        work_pool_name: str | None = None,
        parameters: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        schedule: Any = None,
        schedules: list[Any] | None = None,
        description: str | None = None,
        path: str | None = None,
        entrypoint: str | None = None,
        apply: bool = False,
        concurrency_limit: int | None = None,
        collision_strategy: CollisionStrategy | str = CollisionStrategy.ENQUEUE,
        enforce_parameter_schema: bool = True,
        paused: bool = False,
        source: str | None = None,
    ) -> Deployment:
        """A deployment of `flow`, its entrypoint found from where the flow is defined.

        Args:
            flow: the flow to deploy.
            name: the deployment's name (`str()` of other objects is taken, e.g. a flow's name).
            version: any version label (numbers are kept as text).
            work_queue_name: the queue in the pool (default `default`).
            work_pool_name: the pool whose workers run it (created as a `process` pool if missing).
            parameters: default parameters for its runs.
            schedule, schedules: `Cron(...)`, `Interval(...)`, `RRule(...)` or schedule dicts.
            apply: apply at once.
        """
        from headwater.flows import Flow

        if not isinstance(flow, Flow):
            raise TypeError(f"build_from_flow needs a @flow, got {flow!r}.")
        if path is None or entrypoint is None:
            found_path, found_entrypoint = flow_entrypoint(flow)
            # A deployment of a source (a git URL) is fetched by its workers: no folder of this machine.
            path, entrypoint = path or (None if source else found_path), entrypoint or found_entrypoint
        unknown = sorted(set(parameters or {}) - set(flow.parameter_names()))
        if unknown and not flow.accepts_any_keyword():
            raise ValueError(
                f"Flow {flow.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"its parameters are {', '.join(flow.parameter_names()) or 'none'}."
            )
        create = DeploymentCreate(
            name=str(name),
            flow_name=flow.name,
            version=None if version is None else str(version),
            description=description or flow.description,
            entrypoint=entrypoint,
            path=path,
            source=source,
            parameters=_jsonable(parameters or {}),
            parameter_openapi_schema=parameter_schema(flow),
            enforce_parameter_schema=enforce_parameter_schema,
            tags=list(tags or []),
            work_pool_name=work_pool_name,
            work_queue_name=work_queue_name,
            schedules=collect_schedules(schedule=schedule, schedules=schedules),
            paused=paused,
            concurrency_limit=concurrency_limit,
            collision_strategy=CollisionStrategy(collision_strategy),
        )
        deployment = cls(create, flow)
        if apply:
            deployment.apply()
        return deployment

    def with_schedules(self, schedules: list[DeploymentScheduleCreate]) -> Deployment:
        """A copy with these schedules."""
        return Deployment(self.create.model_copy(update={"schedules": schedules}), self.flow)

    def apply(self) -> UUID:
        """Create the deployment, or update it in place; returns its id."""
        from headwater._wiring import call

        applied = call(lambda o: o.apply_deployment(self.create))
        if applied.work_pool_created:
            _log.warning(
                "Work pool %r did not exist: created it as a 'process' pool. Start a worker for it with "
                "`headwater worker start --pool %s`.",
                self.create.work_pool_name, self.create.work_pool_name,
            )
        verb = "Created" if applied.created else "Updated"
        _log.info("%s deployment %r.", verb, self.full_name)
        self.id = applied.deployment.id
        return applied.deployment.id


def _jsonable(parameters: dict[str, Any]) -> dict[str, Any]:
    from pydantic_core import to_jsonable_python

    result: dict[str, Any] = to_jsonable_python(parameters, fallback=str)
    return result
