"""Handlers: the console format, and the handler that records run log lines through the recorder."""

from __future__ import annotations

import atexit
import logging
import queue
import sys
import threading
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
        elif record.exc_text:
            line += "\n" + record.exc_text
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
            elif record.exc_text:  # the console handler, which runs first, renders it into exc_text
                message += "\n" + record.exc_text
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


class ConsoleHandler(logging.Handler):
    """Shows log lines on `sys.stderr` (whatever it is at the time: test runners swap it), written by a
    background thread.

    Writing to a terminal or pipe is a system call, and a system call gives up the GIL: with the
    recorder busy on its thread, every log call in a flow would wait for the GIL to come back. So a log
    call only queues its line; the thread writes it. Top-level flows `drain()` before returning, and so
    does the process at exit, so no line is lost or shown after its flow returned.
    """

    def __init__(self) -> None:
        super().__init__()
        self._queue: queue.Queue[logging.LogRecord | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        # Render what may change later (mutable arguments, the active exception) now, in the caller.
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if self._thread is None:
            self._start()
        self._queue.put(record)

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_forever, name="headwater-console", daemon=True)
                self._thread.start()
                atexit.register(self.drain)

    def _write_forever(self) -> None:
        while True:
            record = self._queue.get()
            try:
                if record is not None:
                    stream = sys.stderr
                    stream.write(self.format(record) + "\n")
                    if self._queue.empty():
                        stream.flush()
            except Exception:
                if record is not None:
                    self.handleError(record)
            finally:
                self._queue.task_done()

    def drain(self) -> None:
        """Wait until every queued line is written."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.join()

    def flush(self) -> None:
        self.drain()


def drain_console() -> None:
    """Wait until Headwater's console lines queued so far are written."""
    for handler in logging.getLogger("headwater").handlers:
        if isinstance(handler, ConsoleHandler):
            handler.drain()
