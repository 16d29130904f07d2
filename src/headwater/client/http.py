"""The HTTP implementation of `Orchestrator`, used when `HEADWATER_API_URL` is set.

Reads are retried on connection errors and 5xx answers, with backoff; writes of records are retried by
the recorder (which also journals them), so `record` fails fast. Errors from the server become
`HeadwaterHTTPError` / `ObjectNotFound` carrying the server's explanation.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from uuid import UUID

import httpx
from pydantic import TypeAdapter

from headwater.core.states import is_terminal
from headwater.exceptions import HeadwaterHTTPError, InvalidInput, ObjectNotFound
from headwater.schemas.actions import FlowRunCreate, LogCreate, RecordBatch
from headwater.schemas.deployments import (
    Deployment,
    DeploymentApplied,
    DeploymentCreate,
    DeploymentFilter,
    DeploymentFlowRunCreate,
    DeploymentUpdate,
)
from headwater.schemas.filters import FlowRunFilter, LogFilter, TaskRunFilter
from headwater.schemas.objects import Flow, FlowRun, Log, TaskRun
from headwater.schemas.responses import OrchestrationResult
from headwater.schemas.states import StateCreate, StateSchema
from headwater.schemas.work_pools import (
    GetScheduledFlowRuns,
    Worker,
    WorkerFlowRunResponse,
    WorkerHeartbeat,
    WorkPool,
    WorkPoolCreate,
    WorkPoolUpdate,
    WorkQueue,
    WorkQueueCreate,
    WorkQueueUpdate,
)

if TYPE_CHECKING:
    from headwater.settings import Settings

_RETRY_STATUS = frozenset({502, 503, 504})
_states = TypeAdapter(list[StateSchema])
_flow_runs = TypeAdapter(list[FlowRun])
_task_runs = TypeAdapter(list[TaskRun])
_logs = TypeAdapter(list[Log])
_flows = TypeAdapter(list[Flow])
_deployments = TypeAdapter(list[Deployment])
_work_pools = TypeAdapter(list[WorkPool])
_work_queues = TypeAdapter(list[WorkQueue])
_workers = TypeAdapter(list[Worker])
_worker_runs = TypeAdapter(list[WorkerFlowRunResponse])

LONG_POLL_MARGIN_SECONDS = 10.0
"""A long-poll request may take this much longer than the wait it asks for before it times out."""
WAIT_CHUNK_SECONDS = 60.0
"""`wait_for_flow_run` waits in requests of at most this long (proxies drop idle connections)."""


class HTTPOrchestrator:
    """`Orchestrator` over the server's REST API.

    Args:
        api_url: e.g. `http://127.0.0.1:4200/api`.
        api_key: sent as a bearer token when given.
        transport: an httpx transport (tests pass `httpx.ASGITransport(app)` to skip the network).
        retries: how many times a read is retried on a connection error or a 502/503/504.
    """

    def __init__(
        self,
        api_url: str,
        api_key: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retries: int = 4,
        timeout: float = 30.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.api_url = api_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.api_url + "/", headers=headers, transport=transport, timeout=timeout
        )
        self._retries = retries

    @classmethod
    def from_settings(cls, settings: Settings) -> HTTPOrchestrator:
        """A client for the API URL and key in the settings."""
        assert settings.api_url
        key = settings.api_key.get_secret_value() if settings.api_key else None
        return cls(settings.api_url, key)

    # -- plumbing ---------------------------------------------------------------------------------
    async def _request(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> httpx.Response:
        delay = 0.1
        for attempt in range(self._retries + 1 if retry else 1):
            try:
                response = await self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt >= self._retries or not retry:
                    raise HeadwaterHTTPError(
                        0, f"Cannot reach the Headwater API at {self.api_url} ({type(exc).__name__}: {exc}). "
                        "Is the server running (`headwater server start`) and HEADWATER_API_URL right?"
                    ) from exc
            else:
                if response.status_code not in _RETRY_STATUS or attempt >= self._retries or not retry:
                    return _checked(response)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    @staticmethod
    def _json(model: Any) -> Any:
        return model.model_dump(mode="json", exclude_unset=False)

    # -- Orchestrator -----------------------------------------------------------------------------
    async def record(self, batch: RecordBatch) -> None:
        await self._request(
            "POST", "records/", content=batch.model_dump_json(), headers=_JSON, retry=False
        )

    async def create_flow_run(self, create: FlowRunCreate) -> FlowRun:
        response = await self._request("POST", "flow_runs/", content=create.model_dump_json(), headers=_JSON)
        return FlowRun.model_validate_json(response.content)

    async def set_flow_run_state(
        self, flow_run_id: UUID, state: StateCreate, force: bool = False
    ) -> OrchestrationResult:
        body = {"state": self._json(state), "force": force}
        response = await self._request("POST", f"flow_runs/{flow_run_id}/set_state", json=body)
        return OrchestrationResult.model_validate_json(response.content)

    async def read_flow_run(self, flow_run_id: UUID) -> FlowRun:
        response = await self._request("GET", f"flow_runs/{flow_run_id}")
        return FlowRun.model_validate_json(response.content)

    async def read_flow_runs(self, flow_run_filter: FlowRunFilter) -> list[FlowRun]:
        response = await self._request("POST", "flow_runs/filter", json=self._json(flow_run_filter))
        return _flow_runs.validate_json(response.content)

    async def count_flow_runs(self, flow_run_filter: FlowRunFilter) -> int:
        response = await self._request("POST", "flow_runs/count", json=self._json(flow_run_filter))
        return int(response.json())

    async def read_flow_run_states(self, flow_run_id: UUID) -> list[StateSchema]:
        response = await self._request("GET", "flow_run_states/", params={"flow_run_id": str(flow_run_id)})
        return _states.validate_json(response.content)

    async def read_task_runs(self, task_run_filter: TaskRunFilter) -> list[TaskRun]:
        response = await self._request("POST", "task_runs/filter", json=self._json(task_run_filter))
        return _task_runs.validate_json(response.content)

    async def read_task_run_states(self, task_run_id: UUID) -> list[StateSchema]:
        response = await self._request("GET", "task_run_states/", params={"task_run_id": str(task_run_id)})
        return _states.validate_json(response.content)

    async def read_logs(self, log_filter: LogFilter) -> list[Log]:
        response = await self._request("POST", "logs/filter", json=self._json(log_filter))
        return _logs.validate_json(response.content)

    async def create_logs(self, logs: list[LogCreate]) -> None:
        await self._request("POST", "logs/", json=[self._json(line) for line in logs])

    async def read_flows(self) -> list[Flow]:
        response = await self._request("POST", "flows/filter")
        return _flows.validate_json(response.content)

    async def wait_for_flow_run(self, flow_run_id: UUID, timeout_seconds: float) -> FlowRun:
        deadline = time.monotonic() + max(timeout_seconds, 0)
        while True:
            chunk = min(max(deadline - time.monotonic(), 0), WAIT_CHUNK_SECONDS)
            response = await self._request(
                "GET",
                f"flow_runs/{flow_run_id}/wait",
                params={"timeout": chunk},
                timeout=chunk + LONG_POLL_MARGIN_SECONDS,
            )
            flow_run = FlowRun.model_validate_json(response.content)
            if is_terminal(flow_run.state_type) or deadline - time.monotonic() <= 0:
                return flow_run

    # -- deployments ------------------------------------------------------------------------------
    async def apply_deployment(self, create: DeploymentCreate) -> DeploymentApplied:
        response = await self._request("POST", "deployments/", content=create.model_dump_json(), headers=_JSON)
        return DeploymentApplied.model_validate_json(response.content)

    async def read_deployment(self, deployment_id: UUID) -> Deployment:
        response = await self._request("GET", f"deployments/{deployment_id}")
        return Deployment.model_validate_json(response.content)

    async def read_deployment_by_name(self, name: str) -> Deployment:
        flow_name, slash, deployment_name = name.partition("/")
        if not slash:
            raise InvalidInput(f"Deployment name {name!r} must be 'flow-name/deployment-name'.")
        response = await self._request("GET", f"deployments/name/{_part(flow_name)}/{_part(deployment_name)}")
        return Deployment.model_validate_json(response.content)

    async def read_deployments(self, deployment_filter: DeploymentFilter) -> list[Deployment]:
        response = await self._request("POST", "deployments/filter", json=self._json(deployment_filter))
        return _deployments.validate_json(response.content)

    async def update_deployment(self, deployment_id: UUID, update: DeploymentUpdate) -> Deployment:
        # Only the fields given: a field sent as null means "clear it".
        body = update.model_dump(mode="json", exclude_unset=True)
        response = await self._request("PATCH", f"deployments/{deployment_id}", json=body)
        return Deployment.model_validate_json(response.content)

    async def delete_deployment(self, deployment_id: UUID) -> None:
        await self._request("DELETE", f"deployments/{deployment_id}")

    async def create_flow_run_from_deployment(self, deployment_id: UUID, create: DeploymentFlowRunCreate) -> FlowRun:
        # Retried only with an idempotency key: without one, a retry could create the run twice.
        response = await self._request(
            "POST",
            f"deployments/{deployment_id}/create_flow_run",
            content=create.model_dump_json(),
            headers=_JSON,
            retry=create.idempotency_key is not None,
        )
        return FlowRun.model_validate_json(response.content)

    # -- work pools, queues, workers --------------------------------------------------------------
    async def create_work_pool(self, create: WorkPoolCreate) -> WorkPool:
        response = await self._request("POST", "work_pools/", json=self._json(create), retry=False)
        return WorkPool.model_validate_json(response.content)

    async def read_work_pool(self, name: str) -> WorkPool:
        response = await self._request("GET", f"work_pools/{_part(name)}")
        return WorkPool.model_validate_json(response.content)

    async def read_work_pools(self) -> list[WorkPool]:
        response = await self._request("POST", "work_pools/filter")
        return _work_pools.validate_json(response.content)

    async def update_work_pool(self, name: str, update: WorkPoolUpdate) -> WorkPool:
        body = update.model_dump(mode="json", exclude_unset=True)
        response = await self._request("PATCH", f"work_pools/{_part(name)}", json=body)
        return WorkPool.model_validate_json(response.content)

    async def delete_work_pool(self, name: str) -> None:
        await self._request("DELETE", f"work_pools/{_part(name)}")

    async def create_work_queue(self, work_pool_name: str, create: WorkQueueCreate) -> WorkQueue:
        path = f"work_pools/{_part(work_pool_name)}/queues/"
        response = await self._request("POST", path, json=self._json(create), retry=False)
        return WorkQueue.model_validate_json(response.content)

    async def read_work_queues(self, work_pool_name: str) -> list[WorkQueue]:
        response = await self._request("GET", f"work_pools/{_part(work_pool_name)}/queues")
        return _work_queues.validate_json(response.content)

    async def update_work_queue(self, work_pool_name: str, name: str, update: WorkQueueUpdate) -> WorkQueue:
        body = update.model_dump(mode="json", exclude_unset=True)
        response = await self._request("PATCH", f"work_pools/{_part(work_pool_name)}/queues/{_part(name)}", json=body)
        return WorkQueue.model_validate_json(response.content)

    async def worker_heartbeat(self, work_pool_name: str, heartbeat: WorkerHeartbeat) -> None:
        await self._request("POST", f"work_pools/{_part(work_pool_name)}/workers/heartbeat", json=self._json(heartbeat))

    async def read_workers(self, work_pool_name: str) -> list[Worker]:
        response = await self._request("POST", f"work_pools/{_part(work_pool_name)}/workers/filter")
        return _workers.validate_json(response.content)

    async def get_scheduled_flow_runs(
        self, work_pool_name: str, request: GetScheduledFlowRuns
    ) -> list[WorkerFlowRunResponse]:
        response = await self._request(
            "POST",
            f"work_pools/{_part(work_pool_name)}/get_scheduled_flow_runs",
            json=self._json(request),
            timeout=request.wait_seconds + LONG_POLL_MARGIN_SECONDS,
        )
        return _worker_runs.validate_json(response.content)

    async def health(self) -> dict[str, Any]:
        """The server's health answer."""
        response = await self._request("GET", "health", retry=False)
        result: dict[str, Any] = response.json()
        return result

    async def aclose(self) -> None:
        await self._client.aclose()


_JSON = {"Content-Type": "application/json"}


def _part(name: str) -> str:
    """A name as one path segment."""
    return quote(name, safe="")


class _Refused(HeadwaterHTTPError, InvalidInput):
    """A 409 answer: the server refused the request's content (`InvalidInput` there), so it is one here too."""


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        detail = str(response.json().get("detail", response.text))
    except ValueError:
        detail = response.text or response.reason_phrase
    if response.status_code == 404:
        raise ObjectNotFound(detail)
    if response.status_code == 409:
        raise _Refused(response.status_code, detail)
    raise HeadwaterHTTPError(response.status_code, detail)
