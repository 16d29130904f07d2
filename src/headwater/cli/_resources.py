"""Calls for the commands that manage named things (deployments, work pools, queues): the orchestrator's
own explanation of a refusal — an unknown name, parameters that fail a schema, a duplicate — becomes the
command's one-line error, worded the same whether the store is embedded or behind the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from headwater.cli._output import fail
from headwater.cli._store import call_store
from headwater.exceptions import HeadwaterHTTPError, InvalidInput, ObjectNotFound

if TYPE_CHECKING:
    from pydantic import BaseModel

    from headwater.client.base import Orchestrator

T = TypeVar("T")
M = TypeVar("M", bound="BaseModel")

_REFUSALS = frozenset({400, 409, 422})
"""HTTP answers that carry the orchestrator's reason for refusing (the embedded store raises `InvalidInput`)."""


def call_checked(operation: Callable[[Orchestrator], Awaitable[T]]) -> T:
    """Run `operation(orchestrator)`; an unknown name or refused content exits 1 with the store's message."""

    async def checked(orchestrator: Orchestrator) -> T:
        try:
            return await operation(orchestrator)
        except HeadwaterHTTPError as exc:
            if exc.status_code in _REFUSALS:
                raise InvalidInput(exc.detail) from None
            raise

    try:
        return call_store(checked)
    except (ObjectNotFound, InvalidInput) as exc:
        fail(str(exc))


def build(model: type[M], **fields: Any) -> M:
    """A request schema from what the user typed; invalid values exit 1 naming the field."""
    from pydantic import ValidationError

    try:
        return model(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors())
        fail(f"Invalid {model.__name__}: {problems}")
