"""Exceptions Headwater raises to users. Each says what was wrong and how to fix it."""

from __future__ import annotations


class HeadwaterException(Exception):
    """Base class of Headwater's errors."""


class ObjectNotFound(HeadwaterException):
    """The id or name names nothing stored."""


class InvalidInput(HeadwaterException):
    """A request was well formed but its content cannot be accepted."""


class MissingContextError(HeadwaterException, RuntimeError):
    """Something that needs a running flow or task was used outside of one."""


class ParameterBindError(HeadwaterException, TypeError):
    """The arguments given to a flow or task do not fit its signature."""


class ParameterTypeError(HeadwaterException, TypeError):
    """A parameter's value does not match its type hint."""


class UpstreamTaskError(HeadwaterException):
    """A task could not run because a run it depends on (an argument or `wait_for`) did not complete."""


class UnfinishedRun(HeadwaterException):
    """The result of a run that has not finished was asked for."""


class MissingResult(HeadwaterException):
    """A state has no result to give: it was not persisted, or its storage is gone."""


class CrashedRun(HeadwaterException):
    """The run was interrupted by something outside user code (a signal, a killed process)."""


class CancelledRun(HeadwaterException):
    """The run was cancelled."""


class FailedRun(HeadwaterException):
    """A run failed without an exception of its own (e.g. it returned a failed state)."""


class TerminationSignal(SystemExit):
    """SIGTERM reached a running flow: it unwinds like Ctrl-C, so the run is recorded CRASHED, and then
    ends the process with the conventional status 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


class HeadwaterHTTPError(HeadwaterException):
    """The server answered an API call with an error."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"{status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail
