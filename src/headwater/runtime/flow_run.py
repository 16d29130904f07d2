"""The flow run executing here: `id`, `name`, `flow_name`, `parameters`, `tags`, `run_count`,
`parent_flow_run_id`, `parent_task_run_id`, `scheduled_start_time`, `deployment_id`.
Outside a flow run each is None (or empty)."""

from __future__ import annotations

from typing import Any

from headwater.engine.context import current_flow_run

_EMPTY: dict[str, Any] = {
    "id": None,
    "name": None,
    "flow_name": None,
    "parameters": {},
    "tags": [],
    "run_count": 0,
    "parent_flow_run_id": None,
    "parent_task_run_id": None,
    "scheduled_start_time": None,
    "deployment_id": None,
}


def __getattr__(name: str) -> Any:
    if name not in _EMPTY:
        raise AttributeError(f"headwater.runtime.flow_run has no attribute {name!r}; it has {sorted(_EMPTY)}.")
    ctx = current_flow_run()
    if ctx is None:
        value = _EMPTY[name]
        return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
    return getattr(ctx.flow_run, name)


def __dir__() -> list[str]:
    return sorted(_EMPTY)
