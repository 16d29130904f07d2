"""`headwater flow-run`: list flow runs, inspect one, read its logs, cancel or retry one.

Only Typer and the state types are imported here; schemas, the orchestrator wiring and Rich are imported
inside the commands, so `headwater --help` stays quick.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer

from headwater.cli._output import (
    OutputFormat,
    OutputOption,
    console,
    dump,
    print_json,
    print_json_array,
)
from headwater.cli._store import call_store, count_by_probing, pages, parse_id
from headwater.core.states import StateType

if TYPE_CHECKING:
    from headwater.schemas.objects import FlowRun, Log, TaskRun

app = typer.Typer(
    name="flow-run", help="List flow runs, inspect one, read its logs, cancel or retry one.", no_args_is_help=True
)

LOG_PAGE = 10_000
"""The largest page a `LogFilter` allows."""

INSPECT_TABLE_ROWS = 500
"""At most this many task runs and subflow runs are drawn by `inspect`; JSON output has them all."""

_STATE_TYPES = ", ".join(t.value.lower() for t in StateType)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

RunId = Annotated[str, typer.Argument(metavar="ID", help="The flow run's id (a UUID).", show_default=False)]


@app.command("ls")
def list_flow_runs(
    flow: Annotated[
        list[str] | None,
        typer.Option(
            "--flow",
            "-f",
            metavar="NAME",
            help="Only runs of this flow (repeat for several).",
            show_default=False,
        ),
    ] = None,
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state",
            "-s",
            metavar="TYPE",
            help=f"Only runs in this state type (repeat for several): {_STATE_TYPES}.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", min=1, help="How many runs to show.")] = 20,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List flow runs, newest first."""
    from headwater.schemas.filters import MAX_LIMIT, FlowRunFilter

    state_types = [_parse_state_type(value) for value in state] if state else None

    def matching(offset: int = 0, size: int = 1) -> FlowRunFilter:
        return FlowRunFilter(flow_name=flow or None, state_type=state_types, limit=size, offset=offset)

    def fetch(offset: int, size: int) -> list[FlowRun]:
        flow_run_filter = matching(offset, size)
        return call_store(lambda o: o.read_flow_runs(flow_run_filter))

    runs = [run for page in pages(fetch, page_size=MAX_LIMIT, limit=limit) for run in page]
    if output is OutputFormat.JSON:
        print_json([dump(run) for run in runs])
        return
    if not runs:
        typer.echo("No flow runs found.")
        return
    total = len(runs) if len(runs) < limit else call_store(lambda o: o.count_flow_runs(matching()))
    from headwater.cli._flow_run_views import flow_runs_table

    out = console()
    out.print(flow_runs_table(runs))
    if total > len(runs):
        out.print(f"Showing the newest {len(runs)} of {total} flow runs (see --limit).", style="dim")


@app.command("inspect")
def inspect_flow_run(flow_run_id: RunId, output: OutputOption = OutputFormat.TABLE) -> None:
    """Show a flow run: parameters, tags, state and times, its state history, task runs and subflow runs."""
    from headwater.cli._flow_run_details import read_details

    run_id = parse_id(flow_run_id, "flow run")
    if output is OutputFormat.JSON:
        print_json(read_details(run_id, max_children=None).to_json())
        return
    details = read_details(run_id, max_children=INSPECT_TABLE_ROWS)
    from headwater.cli._flow_run_views import print_details

    print_details(console(), details)


@app.command("logs")
def flow_run_logs(
    flow_run_id: RunId,
    head: Annotated[
        int | None,
        typer.Option("--head", metavar="N", min=1, help="Only the first N lines.", show_default=False),
    ] = None,
    tail: Annotated[
        int | None,
        typer.Option("--tail", metavar="N", min=1, help="Only the last N lines.", show_default=False),
    ] = None,
    level: Annotated[
        str | None,
        typer.Option(
            "--level",
            "-l",
            metavar="LEVEL",
            help="Only lines at this level or above: DEBUG, INFO, WARNING, ERROR, CRITICAL (or a number).",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Print a flow run's log lines in the order they were emitted, with the task run each comes from."""
    if head is not None and tail is not None:
        raise typer.BadParameter("give --head or --tail, not both", param_hint="'--head' / '--tail'")
    level_ge = _parse_level(level)
    run_id = parse_id(flow_run_id, "flow run")
    run = call_store(lambda o: o.read_flow_run(run_id), not_found=f"No flow run with id {run_id}")
    fetch = _log_fetcher(run_id, level_ge)
    if tail is None:
        chunks = pages(fetch, page_size=LOG_PAGE, limit=head)
    else:
        # Counting by probing reads a few lines instead of every line; lines that arrive meanwhile are
        # cut by `_last_lines`.
        total = count_by_probing(lambda offset: bool(fetch(offset, 1)))
        chunks = _last_lines(pages(fetch, page_size=LOG_PAGE, start=max(total - tail, 0)), tail)
    if output is OutputFormat.JSON:
        print_json_array(line for chunk in chunks for line in chunk)
        return
    from headwater.cli._flow_run_views import log_line

    task_runs: dict[UUID, TaskRun] = {}
    printed = False
    for chunk in chunks:
        _read_task_runs({line.task_run_id for line in chunk if line.task_run_id is not None}, task_runs)
        typer.echo("\n".join(log_line(line, run, task_runs) for line in chunk))
        printed = True
    if not printed:
        typer.echo(f"No log lines for flow run '{run.name}'.", err=True)


@app.command("cancel")
def cancel_flow_run(flow_run_id: RunId, output: OutputOption = OutputFormat.TABLE) -> None:
    """Cancel a flow run: one that has not started is CANCELLED at once; a running one is set CANCELLING,
    its worker stops its process, and it ends CANCELLED."""
    from headwater.cli._flow_run_actions import cancel

    cancel(parse_id(flow_run_id, "flow run"), output)


@app.command("retry")
def retry_flow_run(flow_run_id: RunId, output: OutputOption = OutputFormat.TABLE) -> None:
    """Run a finished flow run of a deployment again: it goes back to SCHEDULED and a worker picks it up."""
    from headwater.cli._flow_run_actions import retry

    retry(parse_id(flow_run_id, "flow run"), output)


def _parse_state_type(value: str) -> StateType:
    try:
        return StateType(value.strip().upper())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a state type; use one of {_STATE_TYPES} (in any case)", param_hint="'--state'"
        ) from None


def _parse_level(level: str | None) -> int | None:
    if level is None:
        return None
    text = level.strip()
    if text.isdigit():
        return int(text)
    name = text.upper()
    if name == "WARN":
        name = "WARNING"
    if name not in LOG_LEVELS:
        raise typer.BadParameter(
            f"{level!r} is not a log level; use one of {', '.join(LOG_LEVELS)} (or a number)",
            param_hint="'--level'",
        )
    number: int = logging.getLevelNamesMapping()[name]
    return number


def _log_fetcher(run_id: UUID, level_ge: int | None) -> Callable[[int, int], list[Log]]:
    """Reads one page of the run's log lines: `fetch(offset, size)`."""
    from headwater.schemas.filters import LogFilter

    def fetch(offset: int, size: int) -> list[Log]:
        log_filter = LogFilter(flow_run_id=[run_id], level_ge=level_ge, limit=size, offset=offset)
        return call_store(lambda o: o.read_logs(log_filter))

    return fetch


def _last_lines(chunks: Iterable[list[Log]], count: int) -> Iterator[list[Log]]:
    last: collections.deque[Log] = collections.deque(maxlen=count)
    for chunk in chunks:
        last.extend(chunk)
    if last:
        yield list(last)


def _read_task_runs(ids: set[UUID], known: dict[UUID, TaskRun]) -> None:
    """Add the task runs with these ids to `known` (to name the task run each log line comes from)."""
    from headwater.schemas.filters import TaskRunFilter

    missing = sorted(ids - known.keys())
    for start in range(0, len(missing), 500):
        task_run_filter = TaskRunFilter(id=missing[start : start + 500], limit=500)
        for task_run in call_store(lambda o: o.read_task_runs(task_run_filter)):  # noqa: B023 - called at once
            known[task_run.id] = task_run
