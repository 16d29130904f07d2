"""The HTTP implementation of `Orchestrator`, used when `HEADWATER_API_URL` is set.

Reads are retried on connection errors and 5xx answers, with backoff; writes of records are retried by
the recorder (which also journals them), so `record` fails fast. Errors from the server become
`HeadwaterHTTPError` / `ObjectNotFound` carrying the server's explanation.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx
from pydantic import TypeAdapter

from headwater.exceptions import HeadwaterHTTPError, ObjectNotFound
from headwater.schemas.actions import FlowRunCreate, LogCreate, RecordBatch
from headwater.schemas.filters import FlowRunFilter, LogFilter, TaskRunFilter
from headwater.schemas.objects import Flow, FlowRun, Log, TaskRun
from headwater.schemas.responses import OrchestrationResult
from headwater.schemas.states import StateCreate, StateSchema

if TYPE_CHECKING:
    from headwater.settings import Settings

_RETRY_STATUS = frozenset({502, 503, 504})
_states = TypeAdapter(list[StateSchema])
_flow_runs = TypeAdapter(list[FlowRun])
_task_runs = TypeAdapter(list[TaskRun])
_logs = TypeAdapter(list[Log])
_flows = TypeAdapter(list[Flow])


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

    async def health(self) -> dict[str, Any]:
        """The server's health answer."""
        response = await self._request("GET", "health", retry=False)
        result: dict[str, Any] = response.json()
        return result

    async def aclose(self) -> None:
        await self._client.aclose()


_JSON = {"Content-Type": "application/json"}


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_success:
        return response
    try:
        detail = str(response.json().get("detail", response.text))
    except ValueError:
        detail = response.text or response.reason_phrase
    if response.status_code == 404:
        raise ObjectNotFound(detail)
    raise HeadwaterHTTPError(response.status_code, detail)
