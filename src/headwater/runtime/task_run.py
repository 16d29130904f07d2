"""The task run executing here: `id`, `name`, `task_name`, `task_key`, `flow_run_id`, `parameters`, `tags`,
`run_count`. Outside a task run each is None (or empty)."""

from __future__ import annotations

from typing import Any

from headwater.engine.context import current_task_run

_EMPTY: dict[str, Any] = {
    "id": None,
    "name": None,
    "task_name": None,
    "task_key": None,
    "flow_run_id": None,
    "parameters": {},
    "tags": [],
    "run_count": 0,
}


def __getattr__(name: str) -> Any:
    if name not in _EMPTY:
        raise AttributeError(f"headwater.runtime.task_run has no attribute {name!r}; it has {sorted(_EMPTY)}.")
    ctx = current_task_run()
    if ctx is None:
        value = _EMPTY[name]
        return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
    if name == "task_name":
        return ctx.task.name
    return getattr(ctx.task_run, name)


def __dir__() -> list[str]:
    return sorted(_EMPTY)
