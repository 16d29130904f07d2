"""Run logging: `get_run_logger()` inside flows and tasks, recorded with the run and shown on the console."""

from headwater.logging.loggers import get_logger, get_run_logger

__all__ = ["get_logger", "get_run_logger"]
