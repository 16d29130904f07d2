"""Futures: what `task.submit()` and `task.map()` return.

A future stands for a task run in progress. `result()` waits and returns the value (re-raising a
failure); `wait()` waits; `state` is its state now. `wait(futures)` and `as_completed(futures)` work
on many at once.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, NamedTuple, TypeVar
from uuid import UUID

from headwater.core.states import StateType
from headwater.states import State

R = TypeVar("R")


class HeadwaterFuture(Generic[R]):
    """The pending outcome of a submitted task run."""

    __slots__ = ("_future", "task_run_id")

    def __init__(self, task_run_id: UUID, future: concurrent.futures.Future[State[R]]) -> None:
        self.task_run_id = task_run_id
        self._future = future

    def __repr__(self) -> str:
        return f"HeadwaterFuture(task_run_id={self.task_run_id}, state={self.state!r})"

    @property
    def state(self) -> State[R]:
        """The run's final state when done; a `Pending` state before."""
        if self._future.done():
            return self.wait_for_state()
        return State(StateType.PENDING)

    def done(self) -> bool:
        """Whether the run has finished."""
        return self._future.done()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the run finishes, or `timeout` seconds pass."""
        concurrent.futures.wait([self._future], timeout=timeout)

    def wait_for_state(self, timeout: float | None = None) -> State[R]:
        """Wait and return the final state."""
        try:
            return self._future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"Task run {self.task_run_id} did not finish within {timeout} s.") from None
        except BaseException as exc:  # the runner itself failed: report it as a crash
            return State(StateType.CRASHED, message=f"The task runner failed: {exc!r}", data=exc)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> R:
        """Wait and return the run's value; a failure is re-raised (or returned, with
        `raise_on_failure=False`)."""
        return self.wait_for_state(timeout).result(raise_on_failure=raise_on_failure)

    def add_done_callback(self, fn: Callable[[HeadwaterFuture[R]], None]) -> None:
        """Call `fn(self)` once the run finishes."""
        self._future.add_done_callback(lambda _: fn(self))


class HeadwaterFutureList(list[HeadwaterFuture[R]]):
    """The futures of a `map` call."""

    def wait(self, timeout: float | None = None) -> None:
        """Wait for every run."""
        wait(self, timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> list[R]:
        """Every run's value, in order."""
        return [f.result(timeout, raise_on_failure) for f in self]


class DoneAndNotDoneFutures(NamedTuple):
    """What `wait` returns."""

    done: set[HeadwaterFuture[Any]]
    not_done: set[HeadwaterFuture[Any]]


def wait(futures: Iterable[HeadwaterFuture[Any]], timeout: float | None = None) -> DoneAndNotDoneFutures:
    """Wait for all the futures, or until `timeout` seconds pass."""
    by_inner = {f._future: f for f in futures}
    done, not_done = concurrent.futures.wait(list(by_inner), timeout=timeout)
    return DoneAndNotDoneFutures({by_inner[f] for f in done}, {by_inner[f] for f in not_done})


def as_completed(
    futures: Iterable[HeadwaterFuture[Any]], timeout: float | None = None
) -> Iterator[HeadwaterFuture[Any]]:
    """Yield the futures as their runs finish."""
    by_inner = {f._future: f for f in futures}
    for inner in concurrent.futures.as_completed(list(by_inner), timeout=timeout):
        yield by_inner[inner]


__all__ = ["DoneAndNotDoneFutures", "HeadwaterFuture", "HeadwaterFutureList", "as_completed", "wait"]
