"""How flow runs look in a terminal: the run table of `ls`, the report of `inspect`, and log lines."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID

import typer
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from headwater.cli._flow_run_details import FlowRunDetails
from headwater.cli._output import (
    format_duration,
    format_json_value,
    format_precise_time,
    format_time,
    key_values,
    state_text,
    table,
)
from headwater.schemas._base import now_utc
from headwater.schemas.objects import FlowRun, Log, TaskRun

LEVEL_COLORS: dict[int, str] = {
    logging.DEBUG: typer.colors.BRIGHT_BLACK,
    logging.INFO: typer.colors.CYAN,
    logging.WARNING: typer.colors.YELLOW,
    logging.ERROR: typer.colors.RED,
    logging.CRITICAL: typer.colors.BRIGHT_RED,
}


def flow_runs_table(runs: Sequence[FlowRun], *, title: str | None = None) -> Table:
    """One row per run: id, flow, name, state, start time and duration."""
    now = now_utc()
    result = table("ID", "Flow", "Name", "State", "Start time", "Duration", title=title)
    for run in runs:
        result.add_row(
            str(run.id),
            run.flow_name or "-",
            run.name,
            state_text(run.state_type, run.state_name),
            format_time(run.start_time or run.expected_start_time),
            format_duration(run.start_time, run.end_time, now if run.state_type is not None else None),
        )
    return result


def print_details(console: Console, details: FlowRunDetails) -> None:
    """Print everything `inspect` knows about a flow run, section by section."""
    console.print(_summary(details.flow_run, details.waiting_reason))
    console.print()
    console.print(_state_history(details))
    console.print()
    console.print(_task_runs(details))
    console.print()
    console.print(_subflow_runs(details))


def _summary(run: FlowRun, waiting_reason: str | None = None) -> RenderableType:
    state = state_text(run.state_type, run.state_name)
    if run.state is not None and run.state.message:
        state.append(f"  {run.state.message}", style="default")
    rows: list[tuple[str, RenderableType]] = [
        ("ID", str(run.id)),
        ("Name", run.name),
        ("Flow", run.flow_name or "-"),
        ("State", state),
        *([("Why waiting", Text(waiting_reason, style="yellow"))] if waiting_reason else []),
        ("Parameters", format_json_value(run.parameters)),
        ("Tags", ", ".join(run.tags) if run.tags else "-"),
        ("Run count", str(run.run_count)),
        ("Created", format_time(run.created)),
        ("Expected start", format_time(run.expected_start_time)),
        ("Start time", format_time(run.start_time)),
        ("End time", format_time(run.end_time)),
        ("Duration", format_duration(run.start_time, run.end_time, now_utc())),
    ]
    if run.deployment_id is not None:
        rows.append(
            ("Deployment", f"{run.flow_name}/{run.deployment_name}" if run.deployment_name else str(run.deployment_id))
        )
    if run.work_pool_name is not None:
        queue = f" (queue {run.work_queue_name!r})" if run.work_queue_name else ""
        rows.append(("Work pool", f"{run.work_pool_name}{queue}"))
    if run.parent_task_run_id is not None:
        parent = str(run.parent_flow_run_id) if run.parent_flow_run_id else "-"
        rows.append(("Parent flow run", f"{parent}  (task run {run.parent_task_run_id})"))
    return Group(Text("Flow run", style="bold underline"), key_values(rows))


def _state_history(details: FlowRunDetails) -> RenderableType:
    result = table("Time", "Type", "Name", "Message", title="State history")
    for state in details.state_history:
        result.add_row(
            format_precise_time(state.timestamp),
            state.type.value,
            state_text(state.type, state.name),
            state.message or "",
        )
    return result if details.state_history else Text("State history: none", style="dim")


def _task_runs(details: FlowRunDetails) -> RenderableType:
    if not details.task_runs:
        return Text("Task runs: none", style="dim")
    now = now_utc()
    result = table("Name", "State", "Start time", "Duration", "Subflow run", title="Task runs")
    for task_run in details.task_runs:
        result.add_row(
            task_run.name,
            state_text(task_run.state_type, task_run.state_name),
            format_time(task_run.start_time),
            format_duration(task_run.start_time, task_run.end_time, now),
            str(task_run.child_flow_run_id) if task_run.child_flow_run_id else "",
        )
    return _with_more_note(result, details.more_task_runs, len(details.task_runs), "task runs")


def _subflow_runs(details: FlowRunDetails) -> RenderableType:
    if not details.subflow_runs:
        return Text("Subflow runs: none", style="dim")
    result = flow_runs_table(details.subflow_runs, title="Subflow runs")
    return _with_more_note(result, details.more_subflow_runs, len(details.subflow_runs), "subflow runs")


def _with_more_note(result: Table, more: bool, shown: int, what: str) -> RenderableType:
    if not more:
        return result
    note = Text(f"Showing the first {shown} {what}; `--output json` lists them all.", style="dim")
    return Group(result, note)


def log_line(line: Log, run: FlowRun, task_runs: dict[UUID, TaskRun]) -> str:
    """A log line as `time | LEVEL | Task run 'name' - message`, the level coloured (click drops the
    colour when stdout is not a terminal)."""
    level_name = logging.getLevelName(line.level)
    level = typer.style(f"{level_name:<8}", fg=LEVEL_COLORS.get(line.level))
    if line.task_run_id is None:
        source = f"Flow run '{run.name}'"
    else:
        task_run = task_runs.get(line.task_run_id)
        source = f"Task run '{task_run.name}'" if task_run else f"Task run {line.task_run_id}"
    return f"{format_precise_time(line.timestamp)} | {level} | {source} - {line.message}"
