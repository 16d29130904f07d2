"""`Task.map`: turning one call with iterable arguments into one call per item."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from headwater.engine.parameters import bind_arguments, parameters_to_args
from headwater.utilities.annotations import unmapped

_STATIC = (str, bytes, dict)


def _is_mapped(value: Any) -> bool:
    if isinstance(value, (unmapped, *_STATIC)):
        return False
    try:
        iter(value)
    except TypeError:
        return False
    return True


def expand_map_calls(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """One `(args, kwargs)` per item. Arguments that are futures are resolved first (their values
    are mapped over); futures inside a list are handed to each run, which waits for its own (and is
    NotReady if it failed); strings, bytes, dicts and `unmapped(...)` values are passed whole.

    Raises:
        ValueError: when no argument is iterable, or the iterables differ in length (naming them).
    """
    from headwater.engine.inputs import resolve_inputs
    from headwater.futures import HeadwaterFuture
    from headwater.states import State

    def top_level(value: Any) -> Any:
        return resolve_inputs((value,), {})[0][0] if isinstance(value, HeadwaterFuture | State) else value

    args = tuple(top_level(a) for a in args)
    kwargs = {k: top_level(v) for k, v in kwargs.items()}
    parameters = bind_arguments(fn, args, kwargs)
    mapped = {k: list(v) for k, v in parameters.items() if _is_mapped(v)}
    static = {k: (v.value if isinstance(v, unmapped) else v) for k, v in parameters.items() if k not in mapped}
    if not mapped:
        raise ValueError(
            f"map() needs at least one iterable argument to map over; {fn.__name__!r} got none. "
            "Call the task directly, or pass a list."
        )
    lengths = {k: len(v) for k, v in mapped.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            f"map() needs iterables of equal length; got {lengths}. Wrap arguments that should be passed "
            "whole in unmapped(...)."
        )
    for i in range(next(iter(lengths.values()))):
        call = dict(static)
        call.update({k: v[i] for k, v in mapped.items()})
        yield parameters_to_args(fn, call)
