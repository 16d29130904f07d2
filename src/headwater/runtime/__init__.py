"""Facts about the run executing here: `headwater.runtime.flow_run.id`, `.name`, `.parameters` …
and `headwater.runtime.task_run.id`, `.name`, `.parameters` … Outside a run, they are empty."""

from headwater.runtime import flow_run, task_run

__all__ = ["flow_run", "task_run"]
