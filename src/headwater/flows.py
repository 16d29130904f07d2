"""`@flow`: a function whose calls are recorded as flow runs, with the tasks and subflows they call.

    @flow(log_prints=True)
    def pipeline(day: date) -> int:
        rows = extract(day)
        return load(transform(rows))

Calling a flow runs it now, in this process, and returns its value (or raises its exception). A flow
called from inside another flow is a subflow: a child run linked to its parent.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from functools import update_wrapper
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, ParamSpec, TypeVar, overload

from headwater.core.names import generate_run_name
from headwater.engine.context import FlowRunInfo
from headwater.engine.parameters import (
    bind_arguments,
    parameters_model,
    parameters_to_args,
    validate_parameters,
)
from headwater.engine.retries import RetryDelay, check_retry_options
from headwater.exceptions import ParameterBindError, ParameterTypeError
from headwater.task_runners import TaskRunner, ThreadPoolTaskRunner

if TYPE_CHECKING:
    from uuid import UUID

    from headwater.deployments.base import Deployment
    from headwater.results import ResultStore, Serializer
    from headwater.states import State

P = ParamSpec("P")
R = TypeVar("R")
StateHook = Callable[..., Any]


class Flow(Generic[P, R]):
    """A flow: see `headwater.flow` for the options. `str(flow)` is its name."""

    def __init__(
        self,
        fn: Callable[P, R],
        name: str | None = None,
        version: str | None = None,
        flow_run_name: str | Callable[[], str] | None = None,
        retries: int | None = None,
        retry_delay_seconds: RetryDelay = None,
        retry_jitter_factor: float | None = None,
        retry_condition_fn: Callable[..., bool] | None = None,
        task_runner: TaskRunner | None = None,
        description: str | None = None,
        timeout_seconds: float | None = None,
        validate_parameters: bool = True,
        persist_result: bool | None = None,
        result_storage: str | None = None,
        result_serializer: str | Serializer | None = None,
        log_prints: bool | None = None,
        tags: Iterable[str] | None = None,
        on_completion: list[StateHook] | None = None,
        on_failure: list[StateHook] | None = None,
        on_cancellation: list[StateHook] | None = None,
        on_crashed: list[StateHook] | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@flow decorates functions; got {fn!r}.")
        check_retry_options(retries, retry_delay_seconds, retry_jitter_factor)
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}.")
        update_wrapper(self, fn)
        self._options = {k: v for k, v in locals().items() if k not in ("self", "fn")}
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn)
        self.name = name or fn.__name__.replace("_", "-")
        self.version = version
        self.flow_run_name = flow_run_name
        self.retries = retries or 0
        self.retry_delay_seconds = retry_delay_seconds
        self.retry_jitter_factor = retry_jitter_factor
        self.retry_condition_fn = retry_condition_fn
        self.task_runner = task_runner or ThreadPoolTaskRunner()
        self.description = description or inspect.getdoc(fn)
        self.timeout_seconds = timeout_seconds
        self.should_validate_parameters = validate_parameters
        self.persist_result = persist_result
        self.result_storage = result_storage
        self.result_serializer = result_serializer
        self.log_prints = log_prints
        self.tags = set(tags or ())
        self.on_completion = list(on_completion or ())
        self.on_failure = list(on_failure or ())
        self.on_cancellation = list(on_cancellation or ())
        self.on_crashed = list(on_crashed or ())
        self._model: Any = None
        self._store: ResultStore | None = None
        self._source: tuple[str | None, str, str] | None = None
        """(remote source or None, entrypoint, local folder) for a flow loaded with `from_source`."""
        if log_prints:
            from headwater.engine.prints import install_print_capture

            install_print_capture()

    def __repr__(self) -> str:
        return f"Flow(name={self.name!r})"

    def __str__(self) -> str:
        return self.name

    def with_options(self, **options: Any) -> Flow[P, R]:
        """A copy of this flow with some options changed: `etl.with_options(retries=2)`."""
        return Flow(self.fn, **{**self._options, **options})

    # -- parameters -------------------------------------------------------------------------------
    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call's parameters by name; raises `ParameterBindError` naming what is missing or extra."""
        return bind_arguments(self.fn, args, kwargs)

    def bind_partial(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """As much of the call as fits the signature (to record a run whose call did not fit)."""
        try:
            return dict(inspect.signature(self.fn).bind_partial(*args, **kwargs).arguments)
        except TypeError:
            return dict(kwargs)

    def validate(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Coerce and check parameters against the type hints; raises `ParameterTypeError`."""
        if self._model is None:
            self._model = parameters_model(self.fn)
        return validate_parameters(self._model, self.name, parameters)

    def parameter_names(self) -> list[str]:
        """The names of the flow's parameters, in order."""
        return [
            name for name, p in inspect.signature(self.fn).parameters.items()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def accepts_any_keyword(self) -> bool:
        """Whether the flow takes `**kwargs`."""
        return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(self.fn).parameters.values())

    def call_arguments(self, parameters: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Arguments that call the function with these parameters."""
        return parameters_to_args(self.fn, parameters)

    # -- run facts --------------------------------------------------------------------------------
    def run_tags(self) -> list[str]:
        """The tags of a run: the flow's and those of any `headwater.tags` block around the call."""
        from headwater.context import current_tags

        return sorted(self.tags | current_tags())

    def render_run_name(self, info: FlowRunInfo) -> str:
        """The run's name: `flow_run_name` rendered with the parameters, or a random friendly name."""
        template = self.flow_run_name
        if template is None:
            return generate_run_name()
        if callable(template):
            return str(template())
        try:
            return template.format(**info.parameters)
        except KeyError as exc:
            raise ValueError(
                f"flow_run_name {template!r} names {exc} which is not a parameter of flow {self.name!r}."
            ) from None

    def result_store(self) -> ResultStore | None:
        """Where this flow's results (and by default its tasks') are persisted, if configured."""
        if self.result_storage is None and self.result_serializer is None:
            return None
        if self._store is None:
            from headwater.results import ResultStore

            self._store = ResultStore.create(self.result_storage, self.result_serializer)
        return self._store

    # -- deploying --------------------------------------------------------------------------------
    def to_deployment(self, name: str, **options: Any) -> Deployment:
        """A deployment of this flow, not yet applied (for `headwater.serve(...)`, or `.apply()`).

        Options are those of `Deployment.build_from_flow`, plus `cron`, `interval` and `rrule`.
        """
        from headwater.deployments.base import Deployment
        from headwater.deployments.schedules import collect_schedules

        schedules = collect_schedules(
            cron=options.pop("cron", None),
            interval=options.pop("interval", None),
            rrule=options.pop("rrule", None),
            schedule=options.pop("schedule", None),
            schedules=options.pop("schedules", None),
        )
        if self._source is not None:  # loaded with from_source: deploy the source, not this machine's path
            remote, entrypoint, folder = self._source
            options.setdefault("entrypoint", entrypoint)
            options.setdefault("path", None if remote else folder)
            options.setdefault("source", remote)
        return Deployment.build_from_flow(self, name, schedules=schedules, **options)

    def deploy(self, name: str, work_pool_name: str, **options: Any) -> UUID:
        """Create (or update) a deployment of this flow on a work pool; returns its id.

        Options: `work_queue_name`, `parameters`, `description`, `tags`, `version`, `cron`, `interval`,
        `rrule`, `schedules`, `concurrency_limit`, `collision_strategy`, `enforce_parameter_schema`,
        `paused`. A flow loaded with `Flow.from_source(...)` is deployed with its source, so workers
        fetch the code themselves.
        """
        return self.to_deployment(name, work_pool_name=work_pool_name, **options).apply()

    def serve(self, name: str, *, limit: int | None = None, **options: Any) -> None:
        """Deploy this flow and run its runs here, in subprocesses, until interrupted (Ctrl-C).

        Options as for `to_deployment` (`cron=`, `interval=`, `parameters=` …); `limit` caps how many
        runs execute at once.
        """
        from headwater.deployments.runner import serve

        serve(self.to_deployment(name, **options), limit=limit)

    @classmethod
    def from_source(cls, source: str, entrypoint: str) -> Flow[..., Any]:
        """Load a flow from a folder or a git repository (cloned into `$HEADWATER_HOME/sources`).

        Example: `Flow.from_source("https://example.com/org/repo.git", "flows/etl.py:etl").deploy(...)`.
        """
        from headwater.deployments.entrypoints import checkout_source, load_flow_from_entrypoint

        folder = checkout_source(source)
        loaded = load_flow_from_entrypoint(folder, entrypoint)
        is_folder = Path(source).expanduser().is_dir() and not (Path(source) / ".git").exists()
        loaded._source = (None if is_folder else source, entrypoint, str(folder))
        return loaded

    # -- calling ----------------------------------------------------------------------------------
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    @overload
    def __call__(self, *args: Any, return_state: Literal[True], **kwargs: Any) -> State[R]: ...

    def __call__(self, *args: Any, return_state: bool = False, **kwargs: Any) -> Any:  # type: ignore[misc]
        """Run the flow now, in this process. Async flows return a coroutine to await."""
        return_type: Literal["result", "state"] = "state" if return_state else "result"
        if self.is_async:
            return self._call_async(args, kwargs, return_type)
        from headwater.engine.flow_engine import run_flow_sync

        try:
            return run_flow_sync(self, args, kwargs, return_type)
        except (ParameterBindError, ParameterTypeError) as exc:
            # The caller's mistake: show it at the call, not deep inside the engine.
            raise exc.with_traceback(None) from None

    async def _call_async(self, args: tuple[Any, ...], kwargs: dict[str, Any], return_type: Any) -> Any:
        from headwater.engine.flow_engine import run_flow_async

        try:
            return await run_flow_async(self, args, kwargs, return_type)
        except (ParameterBindError, ParameterTypeError) as exc:
            raise exc.with_traceback(None) from None


@overload
def flow(__fn: Callable[P, R]) -> Flow[P, R]: ...


@overload
def flow(
    *,
    name: str | None = None,
    version: str | None = None,
    flow_run_name: str | Callable[[], str] | None = None,
    retries: int | None = None,
    retry_delay_seconds: RetryDelay = None,
    retry_jitter_factor: float | None = None,
    retry_condition_fn: Callable[..., bool] | None = None,
    task_runner: TaskRunner | None = None,
    description: str | None = None,
    timeout_seconds: float | None = None,
    validate_parameters: bool = True,
    persist_result: bool | None = None,
    result_storage: str | None = None,
    result_serializer: str | Serializer | None = None,
    log_prints: bool | None = None,
    tags: Iterable[str] | None = None,
    on_completion: list[StateHook] | None = None,
    on_failure: list[StateHook] | None = None,
    on_cancellation: list[StateHook] | None = None,
    on_crashed: list[StateHook] | None = None,
) -> Callable[[Callable[P, R]], Flow[P, R]]: ...


def flow(__fn: Any = None, **options: Any) -> Any:
    """Make a function a flow, bare (`@flow`) or with options (`@flow(log_prints=True)`).

    Options: `name` (default: the function's name with `-` for `_`), `version`, `description`,
    `flow_run_name` (a template of the parameters, or a callable), `retries`, `retry_delay_seconds`,
    `retry_jitter_factor`, `retry_condition_fn`, `timeout_seconds`, `validate_parameters` (check the
    parameters against the type hints before running, default True), `task_runner` (default
    `ThreadPoolTaskRunner()`), `log_prints`, `persist_result`, `result_storage`, `result_serializer`,
    `tags`, and the state hooks `on_completion`, `on_failure`, `on_crashed`, `on_cancellation` (each
    called as `hook(flow, flow_run, state)`).
    """
    if __fn is not None:
        return Flow(__fn, **options)
    return lambda fn: Flow(fn, **options)


# `flow.from_source(source, entrypoint)`, as the established API spells it.
flow.from_source = Flow.from_source  # type: ignore[attr-defined]


__all__ = ["Flow", "flow"]
