"""`@task`: a function whose calls inside a flow are recorded as task runs, with retries, timeouts,
caching and persisted results.

    @task(retries=2, retry_delay_seconds=5)
    def fetch(url: str) -> dict: ...

Called inside a flow a task runs at once and returns its value; `.submit()` returns a future;
`.map()` submits one run per item. Called outside a flow, it is a plain function call.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import update_wrapper
from typing import TYPE_CHECKING, Any, Generic, Literal, ParamSpec, TypeVar, overload

from headwater.cache_policies import CacheKeyFnPolicy, CachePolicy, _NoCache
from headwater.engine.context import FlowRunContext, TaskRunInfo, flow_run_context
from headwater.engine.retries import RetryDelay, check_retry_options, exponential_backoff
from headwater.futures import HeadwaterFuture, HeadwaterFutureList
from headwater.utilities.annotations import unmapped

if TYPE_CHECKING:
    from headwater.results import ResultStore, Serializer
    from headwater.states import State

P = ParamSpec("P")
R = TypeVar("R")

_NOT_SET: Any = object()
StateHook = Callable[..., Any]


class _CacheContext:
    __slots__ = ("flow_parameters", "flow_run_id", "fn", "task_run")

    def __init__(self, fn: Callable[..., Any], info: TaskRunInfo, flow_ctx: FlowRunContext) -> None:
        self.fn = fn
        self.task_run = info
        self.flow_run_id = flow_ctx.flow_run.id
        self.flow_parameters = flow_ctx.flow_run.parameters


class Task(Generic[P, R]):
    """A task: see `headwater.task` for the options."""

    def __init__(
        self,
        fn: Callable[P, R],
        name: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        version: str | None = None,
        cache_policy: CachePolicy = _NOT_SET,
        cache_key_fn: Callable[[Any, dict[str, Any]], str | None] | None = None,
        cache_expiration: timedelta | float | None = None,
        task_run_name: str | Callable[[], str] | None = None,
        retries: int | None = None,
        retry_delay_seconds: RetryDelay = None,
        retry_jitter_factor: float | None = None,
        persist_result: bool | None = None,
        result_storage: str | None = None,
        result_serializer: str | Serializer | None = None,
        timeout_seconds: float | None = None,
        log_prints: bool | None = None,
        refresh_cache: bool | None = None,
        on_completion: list[StateHook] | None = None,
        on_failure: list[StateHook] | None = None,
        retry_condition_fn: Callable[..., bool] | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@task decorates functions; got {fn!r}.")
        check_retry_options(retries, retry_delay_seconds, retry_jitter_factor)
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}.")
        update_wrapper(self, fn)
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn)
        self.name = name or fn.__name__
        self.description = description or inspect.getdoc(fn)
        self.tags = set(tags or ())
        self.version = version
        self.cache_policy = cache_policy
        self.cache_key_fn = cache_key_fn
        self.cache_expiration = cache_expiration
        self.task_run_name = task_run_name
        self.retries = retries or 0
        self.retry_delay_seconds = retry_delay_seconds
        self.retry_jitter_factor = retry_jitter_factor
        self.persist_result = persist_result
        self.result_storage = result_storage
        self.result_serializer = result_serializer
        self.timeout_seconds = timeout_seconds
        self.log_prints = log_prints
        self.refresh_cache = bool(refresh_cache)
        self.on_completion = list(on_completion or ())
        self.on_failure = list(on_failure or ())
        self.retry_condition_fn = retry_condition_fn
        module = getattr(fn, "__module__", "") or ""
        digest = hashlib.sha1(f"{module}.{fn.__qualname__}".encode()).hexdigest()[:8]
        self.task_key = f"{fn.__qualname__}-{digest}"
        self._options = {k: v for k, v in locals().items() if k not in ("self", "fn", "module", "digest")}
        # The policy used when caching is on: an explicit policy, a key function, or none at all.
        policy: CachePolicy | None
        if cache_key_fn is not None:
            policy = CacheKeyFnPolicy(cache_key_fn)
        elif cache_policy is _NOT_SET or isinstance(cache_policy, _NoCache):
            policy = None
        else:
            policy = cache_policy
        if persist_result is False:
            policy = None  # nothing is persisted, so nothing could be read back from a cache
        self.cache_policy_in_force = policy
        self._store: ResultStore | None = None
        if log_prints:
            from headwater.engine.prints import install_print_capture

            install_print_capture()

    def __repr__(self) -> str:
        return f"Task(name={self.name!r})"

    def __get__(self, instance: Any, owner: Any) -> Any:
        """Support tasks defined as methods: bind `self` like a function would."""
        if instance is None:
            return self
        bound = self.with_options()
        bound.fn = self.fn.__get__(instance, owner)
        return bound

    # -- options ----------------------------------------------------------------------------------
    def with_options(self, **options: Any) -> Task[P, R]:
        """A copy of this task with some options changed: `fetch.with_options(retries=5)`."""
        merged = {**self._options, **options}
        return Task(self.fn, **merged)

    def run_tags(self) -> list[str]:
        """The tags of a run of this task: its own and those of any `headwater.tags` block around."""
        from headwater.context import current_tags

        return sorted(self.tags | current_tags()) if self.tags or current_tags() else []

    def resolve_log_prints(self, flow_ctx: FlowRunContext | None) -> bool:
        """Whether prints are logged in a run: the task's setting, else the flow's."""
        if self.log_prints is not None:
            return self.log_prints
        return bool(flow_ctx and flow_ctx.log_prints)

    def render_run_name(self, dynamic_key: int, info: TaskRunInfo) -> str:
        """The run's name: `task_run_name` rendered with the call's parameters, or `name-<n>`."""
        template = self.task_run_name
        if template is None:
            return f"{self.name}-{dynamic_key}"
        if callable(template):
            return str(template())
        try:
            return template.format(**info.parameters)
        except KeyError as exc:
            raise ValueError(
                f"task_run_name {template!r} names {exc} which is not a parameter of {self.name!r}."
            ) from None

    def should_persist(self, flow_ctx: FlowRunContext | None) -> bool:
        """Whether a completed run's result is written to result storage."""
        if self.persist_result is not None:
            return self.persist_result
        if self.cache_policy_in_force is not None:
            return True
        return bool(flow_ctx and flow_ctx.persist_result)

    def result_store_for(self, flow_ctx: FlowRunContext | None) -> ResultStore:
        """Where this task's results go: its own storage, else its flow's, else the default."""
        if self.result_storage is None and self.result_serializer is None and flow_ctx and flow_ctx.result_store:
            return flow_ctx.result_store
        if self._store is None:
            from headwater.results import ResultStore

            self._store = ResultStore.create(self.result_storage, self.result_serializer)
        return self._store

    def compute_cache_key(self, info: TaskRunInfo, flow_ctx: FlowRunContext) -> str | None:
        """The cache key of a run, from the policy in force."""
        assert self.cache_policy_in_force is not None
        return self.cache_policy_in_force.compute_key(_CacheContext(self.fn, info, flow_ctx), info.parameters)

    # -- calling ----------------------------------------------------------------------------------
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    @overload
    def __call__(self, *args: Any, return_state: Literal[True], wait_for: Any = ..., **kwargs: Any) -> State[R]: ...

    def __call__(  # type: ignore[misc]  # the overloads above are what callers see
        self, *args: Any, return_state: bool = False, wait_for: Any = None, **kwargs: Any
    ) -> Any:
        """Run the task now. Inside a flow it is recorded as a task run; outside, it is a plain call."""
        flow_ctx = flow_run_context.get()
        if flow_ctx is None:
            if return_state:
                from headwater.engine.standalone import call_for_state

                return call_for_state(self, args, kwargs)
            return self.fn(*args, **kwargs)
        return_type: Literal["result", "state"] = "state" if return_state else "result"
        if self.is_async:
            from headwater.engine.task_engine import run_task_async

            return run_task_async(self, args, kwargs, flow_ctx, return_type, wait_for)
        from headwater.engine.task_engine import run_task_sync

        return run_task_sync(self, args, kwargs, flow_ctx, return_type, wait_for)

    def submit(self, *args: Any, wait_for: Any = None, **kwargs: Any) -> HeadwaterFuture[R]:
        """Start a run on the flow's task runner; returns its future at once.

        Futures among the arguments (and in `wait_for`) are waited for, and replaced by their values,
        before the run starts.
        """
        flow_ctx = flow_run_context.get()
        if flow_ctx is None:
            from headwater.engine.standalone import submit_outside_flow

            return submit_outside_flow(self, args, kwargs, wait_for)
        return flow_ctx.task_runner.submit(self, args, kwargs, wait_for, flow_ctx)

    def map(self, *args: Any, wait_for: Any = None, **kwargs: Any) -> HeadwaterFutureList[R]:
        """Submit one run per item of the iterable arguments (of equal length); wrap an argument in
        `unmapped(...)` to pass it whole to every run."""
        from headwater.engine.mapping import expand_map_calls

        return HeadwaterFutureList(
            self.submit(*call_args, wait_for=wait_for, **call_kwargs)
            for call_args, call_kwargs in expand_map_calls(self.fn, args, kwargs)
        )


@overload
def task(__fn: Callable[P, R]) -> Task[P, R]: ...


@overload
def task(
    *,
    name: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
    version: str | None = None,
    cache_policy: CachePolicy = ...,
    cache_key_fn: Callable[[Any, dict[str, Any]], str | None] | None = None,
    cache_expiration: timedelta | float | None = None,
    task_run_name: str | Callable[[], str] | None = None,
    retries: int | None = None,
    retry_delay_seconds: RetryDelay = None,
    retry_jitter_factor: float | None = None,
    persist_result: bool | None = None,
    result_storage: str | None = None,
    result_serializer: str | Serializer | None = None,
    timeout_seconds: float | None = None,
    log_prints: bool | None = None,
    refresh_cache: bool | None = None,
    on_completion: list[StateHook] | None = None,
    on_failure: list[StateHook] | None = None,
    retry_condition_fn: Callable[..., bool] | None = None,
) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(__fn: Any = None, **options: Any) -> Any:
    """Make a function a task, bare (`@task`) or with options (`@task(retries=3)`).

    Options: `name`, `description`, `tags`, `version`, `retries`, `retry_delay_seconds` (a number, a
    list, or `exponential_backoff(...)`), `retry_jitter_factor`, `retry_condition_fn(task, task_run,
    state)`, `timeout_seconds`, `log_prints`, `cache_policy`, `cache_key_fn`, `cache_expiration`,
    `refresh_cache`, `persist_result`, `result_storage` (a folder or fsspec URL), `result_serializer`
    (`"pickle"` or `"json"`), `task_run_name` (a template of the parameters, or a callable) and the
    state hooks `on_completion`, `on_failure` (each called as `hook(task, task_run, state)`).
    """
    if __fn is not None:
        return Task(__fn, **options)
    return lambda fn: Task(fn, **options)


__all__ = ["Task", "exponential_backoff", "task", "unmapped"]
