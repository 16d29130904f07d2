"""The public surface is a promise: these names stay importable from these modules."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PUBLIC = {
    "headwater": [
        "Flow", "HeadwaterFuture", "State", "Task", "__version__", "flow", "get_run_logger", "serve", "tags", "task",
        "unmapped",
    ],
    "headwater.states": [
        "AwaitingRetry", "Cached", "Cancelled", "Cancelling", "Completed", "Crashed", "Failed", "Late", "Paused",
        "Pending", "Retrying", "Running", "Scheduled", "State", "StateType", "Suspended", "TimedOut",
        "get_state_exception", "raise_state_exception",
    ],
    "headwater.futures": ["DoneAndNotDoneFutures", "HeadwaterFuture", "HeadwaterFutureList", "as_completed", "wait"],
    "headwater.cache_policies": [
        "DEFAULT", "FLOW_PARAMETERS", "INPUTS", "NONE", "RUN_ID", "TASK_SOURCE", "CachePolicy",
    ],
    "headwater.task_runners": ["ProcessPoolTaskRunner", "TaskRunner", "ThreadPoolTaskRunner"],
    "headwater.tasks": ["Task", "task", "exponential_backoff"],
    "headwater.flows": ["Flow", "flow"],
    "headwater.deployments": ["Deployment", "run_deployment", "Cron", "Interval", "RRule"],
    "headwater.workers": ["BaseWorker", "ExitStatus", "Infrastructure", "ProcessWorker"],
    "headwater.runtime": ["flow_run", "task_run"],
    "headwater.testing.utilities": ["headwater_test_harness"],
    "headwater.logging": ["get_run_logger"],
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_public_names_are_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    missing = [name for name in PUBLIC[module_name] if not hasattr(module, name)]
    assert not missing, f"{module_name} lost public names: {missing}"


def test_top_level_all_is_pinned() -> None:
    import headwater

    assert sorted(headwater.__all__) == sorted(PUBLIC["headwater"])


def test_import_headwater_does_not_load_the_store_or_http_stacks() -> None:
    code = (
        "import sys, headwater; "
        "heavy = [m for m in ('sqlalchemy', 'httpx', 'fastapi', 'alembic', 'uvicorn') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"`import headwater` loaded {out}: keep them lazy, they cost hundreds of milliseconds"
