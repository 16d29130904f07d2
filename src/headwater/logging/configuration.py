"""Logging set-up, done once per process on first use: a console handler and the recording handler
on the `headwater` logger."""

from __future__ import annotations

import logging
import threading

from headwater.logging.handlers import ConsoleFormatter, ConsoleHandler, RecordingHandler

_done = False
_lock = threading.Lock()


def setup_logging() -> None:
    """Attach Headwater's handlers to the `headwater` logger (idempotent)."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        from headwater.settings import get_settings

        logger = logging.getLogger("headwater")
        logger.setLevel(get_settings().logging_level.upper())
        console = ConsoleHandler()
        console.setFormatter(ConsoleFormatter())
        logger.addHandler(console)
        logger.addHandler(RecordingHandler())
        # Records stay within Headwater's handlers; a root handler would show each line twice.
        logger.propagate = False
        _done = True
