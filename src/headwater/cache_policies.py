"""Cache policies: how a task's cache key is computed from its call.

A task with a cache key whose result is already persisted (and not expired) is not run again: it
enters a `Cached` state holding the stored result. Combine policies with `+`:
`@task(cache_policy=INPUTS + TASK_SOURCE)`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class CacheKeyContext(Protocol):
    """What a policy may look at."""

    @property
    def fn(self) -> Callable[..., Any]: ...

    @property
    def flow_run_id(self) -> Any: ...

    @property
    def flow_parameters(self) -> dict[str, Any]: ...


def hash_objects(*objects: Any) -> str:
    """A stable hash of the objects: JSON when they are JSON-able, cloudpickle otherwise."""
    try:
        payload = json.dumps(objects, sort_keys=True, default=str).encode()
    except (TypeError, ValueError):
        import cloudpickle  # only for arguments JSON cannot hold; keeps `import headwater` light

        payload = cloudpickle.dumps(objects)
    return hashlib.sha256(payload).hexdigest()[:32]


class CachePolicy:
    """Base class: a policy turns a task call into a cache key, or None for "do not cache"."""

    def compute_key(self, ctx: CacheKeyContext, inputs: dict[str, Any]) -> str | None:
        """The cache key for this call, or None."""
        raise NotImplementedError

    def __add__(self, other: CachePolicy) -> CachePolicy:
        mine = self.policies if isinstance(self, CompoundCachePolicy) else [self]
        theirs = other.policies if isinstance(other, CompoundCachePolicy) else [other]
        return CompoundCachePolicy([*mine, *theirs])

    def __sub__(self, name: str) -> CachePolicy:
        """Leave one input out of an INPUTS policy: `INPUTS - "logger"`."""
        if isinstance(self, Inputs):
            return Inputs(exclude=[*self.exclude, name])
        if isinstance(self, CompoundCachePolicy):
            return CompoundCachePolicy([p - name for p in self.policies])
        return self


@dataclass
class CompoundCachePolicy(CachePolicy):
    """All keys of its policies, hashed together; None when any of them gives None."""

    policies: list[CachePolicy] = field(default_factory=list)

    def compute_key(self, ctx: CacheKeyContext, inputs: dict[str, Any]) -> str | None:
        keys = []
        for policy in self.policies:
            key = policy.compute_key(ctx, inputs)
            if key is None:
                return None
            keys.append(key)
        return hash_objects(*keys)


@dataclass
class Inputs(CachePolicy):
    """The call's arguments."""

    exclude: list[str] = field(default_factory=list)

    def compute_key(self, ctx: CacheKeyContext, inputs: dict[str, Any]) -> str | None:
        return hash_objects({k: v for k, v in inputs.items() if k not in self.exclude})


class TaskSource(CachePolicy):
    """The task function's source code: editing the task invalidates its cache."""

    def compute_key(self, ctx: CacheKeyContext, inputs: dict[str, Any]) -> str | None:
        try:
            source = inspect.getsource(ctx.fn)
        except (OSError, TypeError):
            source = getattr(ctx.fn, "__qualname__", repr(ctx.fn))
        return hash_objects(source)


class FlowParameters(CachePolicy):
    """The enclosing flow run's parameters."""

    def compute_key(self, ctx: CacheKeyContext, inputs: dict[str, Any]) -> str | None:
        return hash_objects(ctx.flow_parameters)


class RunId(CachePolicy):
    """The enclosing flow run's id: cache within one run only."""

    def compute_key(self, ctx: CacheKeyContext, inputs: dict[str, Any]) -> str | None:
        return str(ctx.flow_run_id) if ctx.flow_run_id is not None else None


class _NoCache(CachePolicy):
    """Never cache."""

    def compute_key(self, ctx: CacheKeyContext, inputs: dict[str, Any]) -> str | None:
        return None

    def __add__(self, other: CachePolicy) -> CachePolicy:
        return other


@dataclass
class CacheKeyFnPolicy(CachePolicy):
    """A user function `(context, inputs) -> key`, as given with `cache_key_fn`."""

    cache_key_fn: Callable[[Any, dict[str, Any]], str | None]

    def compute_key(self, ctx: CacheKeyContext, inputs: dict[str, Any]) -> str | None:
        return self.cache_key_fn(ctx, inputs)


INPUTS = Inputs()
TASK_SOURCE = TaskSource()
FLOW_PARAMETERS = FlowParameters()
RUN_ID = RunId()
NO_CACHE = NONE = _NoCache()
DEFAULT = INPUTS + TASK_SOURCE + RUN_ID

__all__ = [
    "DEFAULT",
    "FLOW_PARAMETERS",
    "INPUTS",
    "NONE",
    "NO_CACHE",
    "RUN_ID",
    "TASK_SOURCE",
    "CacheKeyFnPolicy",
    "CachePolicy",
    "CompoundCachePolicy",
    "FlowParameters",
    "Inputs",
    "RunId",
    "TaskSource",
]
