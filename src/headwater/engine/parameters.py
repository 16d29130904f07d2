"""Binding call arguments to a function's parameters, and validating them against the type hints."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from headwater.exceptions import ParameterBindError, ParameterTypeError


def bind_arguments(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call's arguments by parameter name, defaults applied.

    Raises:
        ParameterBindError: naming the missing or unexpected parameter.
    """
    signature = inspect.signature(fn)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise ParameterBindError(
            f"Cannot call {fn.__name__!r} with these arguments: {exc}. "
            f"Its signature is {fn.__name__}{signature}."
        ) from None
    bound.apply_defaults()
    return dict(bound.arguments)


def parameters_to_args(fn: Callable[..., Any], parameters: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Positional and keyword arguments that call `fn` with these parameters (`*args`/`**kwargs` spread)."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    # Parameters go positionally until one is left out: those before a `*args` must not be keywords.
    positional = True
    for name, param in inspect.signature(fn).parameters.items():
        if name not in parameters:
            positional = False
            continue
        value = parameters[name]
        if param.kind is param.VAR_POSITIONAL:
            args.extend(value)
        elif param.kind is param.VAR_KEYWORD:
            kwargs.update(value)
        elif param.kind is param.POSITIONAL_ONLY or (positional and param.kind is param.POSITIONAL_OR_KEYWORD):
            args.append(value)
        else:
            kwargs[name] = value
    return tuple(args), kwargs


def parameters_model(fn: Callable[..., Any]) -> Any:
    """A pydantic model of the function's named parameters (their hints and defaults)."""
    from pydantic import ConfigDict, create_model

    try:  # resolves string hints (`from __future__ import annotations`) in the function's module
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception:  # a hint names something not reachable from the module: left unchecked
        hints = {}
    fields: dict[str, Any] = {}
    for name, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        hint = hints.get(name, param.annotation)
        if hint is inspect.Parameter.empty or isinstance(hint, str):
            hint = Any
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (hint, default)
    config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())
    return create_model(f"{fn.__name__}_parameters", __config__=config, **fields)


def validate_parameters(model: Any, fn_name: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """Coerce and check parameters with the model from `parameters_model`; returns the coerced values.

    Raises:
        ParameterTypeError: naming each invalid parameter, what was expected and what was given.
    """
    from pydantic import ValidationError

    named = {k: v for k, v in parameters.items() if k in model.model_fields}
    try:
        validated = model.model_validate(named)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']} (got {err.get('input')!r})"
            for err in exc.errors()
        )
        raise ParameterTypeError(f"Invalid parameters for {fn_name!r}: {problems}") from None
    coerced = dict(parameters)
    for name in named:
        coerced[name] = getattr(validated, name)
    return coerced
