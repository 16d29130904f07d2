"""Handlers: the console format, and the handler that records run log lines through the recorder."""

from __future__ import annotations

import logging
import sys
import time

# Lines emitted while recording (the recorder's own warnings) must not be recorded again.
_UNRECORDED = ("headwater.recorder",)


class ConsoleFormatter(logging.Formatter):
    """`12:00:01.123 | INFO    | Flow run 'brave-otter' - message`"""

    def format(self, record: logging.LogRecord) -> str:
        t = time.localtime(record.created)
        stamp = f"{time.strftime('%H:%M:%S', t)}.{int(record.msecs):03d}"
        label = getattr(record, "run_label", None)
        message = record.getMessage()
        line = f"{stamp} | {record.levelname:<7} | {label + ' - ' if label else record.name + ' - '}{message}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class RecordingHandler(logging.Handler):
    """Sends log lines of flow and task runs to the recorder (lines without a run are only shown)."""

    def emit(self, record: logging.LogRecord) -> None:
        flow_run_id = getattr(record, "flow_run_id", None)
        if flow_run_id is None or record.name.startswith(_UNRECORDED):
            return
        try:
            from headwater.engine.recorder import get_recorder

            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            get_recorder().log(
                record.name,
                record.levelno,
                message,
                record.created,
                flow_run_id,
                getattr(record, "task_run_id", None),
            )
        except Exception:
            self.handleError(record)


class ConsoleHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of each line (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass
