"""Resolving a task's inputs: futures and states passed as arguments become their values."""

from __future__ import annotations

from typing import Any

from headwater.exceptions import UpstreamTaskError
from headwater.states import State

_PLAIN = (str, int, float, bool, bytes, type(None))


class UpstreamFailed(UpstreamTaskError):
    """An argument (or a `wait_for` dependency) is a run that did not complete."""

    def __init__(self, state: State[Any]) -> None:
        super().__init__(state.message or state.name)
        self.state = state


def _resolve(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    from headwater.futures import HeadwaterFuture, HeadwaterFutureList

    if isinstance(value, HeadwaterFuture):
        value = value.wait_for_state()
    if isinstance(value, State):
        if value.is_final() and not value.is_completed():
            raise UpstreamFailed(value)
        return value.result()
    if type(value) in (list, tuple, set):
        items = [_resolve(v) for v in value]
        return type(value)(items)
    if isinstance(value, HeadwaterFutureList):  # what `map` returns: its values, as a plain list
        return [_resolve(v) for v in value]
    if type(value) is dict:
        return {k: _resolve(v) for k, v in value.items()}
    return value


def _needs_resolving(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return False
    from headwater.futures import HeadwaterFuture, HeadwaterFutureList

    if isinstance(value, HeadwaterFuture | State):
        return True
    if type(value) in (list, tuple, set) or isinstance(value, HeadwaterFutureList):
        return any(_needs_resolving(v) for v in value)
    if type(value) is dict:
        return any(_needs_resolving(v) for v in value.values())
    return False


def resolve_inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Arguments with every future and state (also inside lists, tuples, sets and dicts) replaced by its
    value. Raises `UpstreamFailed` when one of them did not complete."""
    if args and any(_needs_resolving(a) for a in args):
        args = tuple(_resolve(a) for a in args)
    if kwargs and any(_needs_resolving(v) for v in kwargs.values()):
        kwargs = {k: _resolve(v) for k, v in kwargs.items()}
    return args, kwargs


def wait_for_all(wait_for: Any) -> None:
    """Wait for each future or state in `wait_for`; raise `UpstreamFailed` if one did not complete."""
    from headwater.futures import HeadwaterFuture

    for item in wait_for or ():
        state = item.wait_for_state() if isinstance(item, HeadwaterFuture) else item
        if isinstance(state, State) and state.is_final() and not state.is_completed():
            raise UpstreamFailed(state)
