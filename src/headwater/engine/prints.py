"""`log_prints=True`: `print` inside a flow or task becomes an INFO line of the run's log.

`builtins.print` is wrapped once, the first time a run asks for it; the wrapper checks the current
run context, so prints outside such runs (or to other files) behave exactly as before.
"""

from __future__ import annotations

import builtins
import sys
import threading
from typing import Any

from headwater.engine.context import flow_run_context, task_run_context

_original_print = builtins.print
_installed = False
_lock = threading.Lock()


def _run_print(*args: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None,
               flush: bool = False) -> None:
    if file is None or file is sys.stdout:
        task_ctx = task_run_context.get()
        ctx = task_ctx if task_ctx is not None else flow_run_context.get()
        if ctx is not None and ctx.log_prints:
            from headwater.logging.loggers import get_run_logger

            get_run_logger().info((sep if sep is not None else " ").join(str(a) for a in args))
            return
    _original_print(*args, sep=sep, end=end, file=file, flush=flush)


def install_print_capture() -> None:
    """Wrap `builtins.print` (idempotent)."""
    global _installed
    if _installed:
        return
    with _lock:
        if not _installed:
            builtins.print = _run_print
            _installed = True
