"""Rendering shared by every command: Rich tables for people, JSON for programs.

Rich is imported inside the functions that draw, so `headwater --help`, JSON output and early errors
never pay for it. JSON goes to stdout and nothing else does when `--output json` is given; errors go
to stderr.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from headwater.core.states import StateType

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

PIPED_WIDTH = 200
"""Rich's width when stdout is not a terminal: wide enough that a table row stays on one line for grep."""

STATE_STYLES: dict[StateType, str] = {
    StateType.SCHEDULED: "yellow",
    StateType.PENDING: "bright_black",
    StateType.RUNNING: "blue",
    StateType.COMPLETED: "green",
    StateType.FAILED: "red",
    StateType.CRASHED: "bright_red",
    StateType.CANCELLING: "magenta",
    StateType.CANCELLED: "bright_black",
    StateType.PAUSED: "yellow",
}


class OutputFormat(StrEnum):
    """How a command prints its result."""

    TABLE = "table"
    JSON = "json"


OutputOption = Annotated[
    OutputFormat,
    typer.Option(
        "--output",
        "-o",
        case_sensitive=False,
        help="`table` for people, `json` for programs (only JSON is printed on stdout).",
    ),
]


def fail(message: str) -> NoReturn:
    """Print a one-line error on stderr and exit with code 1."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def dump(model: BaseModel) -> dict[str, Any]:
    """A schema object as plain JSON-compatible data."""
    return model.model_dump(mode="json")


def print_json(data: Any) -> None:
    """Print data as indented JSON, non-ASCII characters kept as they are."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def print_json_array(models: Iterable[BaseModel]) -> None:
    """Print schema objects as a JSON array, one per line, as they come: memory stays flat for 100,000."""
    out = sys.stdout
    out.write("[")
    separator = "\n"
    for model in models:
        # Same data as `dump(model)`, serialised by pydantic-core (faster than `json.dumps` of a dict).
        out.write(separator + model.model_dump_json())
        separator = ",\n"
    out.write("\n]\n" if separator != "\n" else "]\n")
    out.flush()


def console() -> Console:
    """A Rich console on stdout (resolved when printing, so test runners that swap stdout see it).

    Markup is off: names, parameters and messages are printed as they are, `[bold]` included.
    """
    from rich.console import Console

    width = None
    if not sys.stdout.isatty() and "COLUMNS" not in os.environ:
        width = PIPED_WIDTH
    return Console(highlight=False, markup=False, width=width)


def table(*columns: str, title: str | None = None) -> Table:
    """A Rich table with these column headers; a column named `ID` is never wrapped."""
    from rich.table import Table

    result = Table(title=title, title_justify="left", title_style="bold")
    for name in columns:
        if name == "ID":
            result.add_column(name, no_wrap=True, min_width=36)
        else:
            result.add_column(name, overflow="fold")
    return result


def state_text(state_type: StateType | None, state_name: str | None) -> Text:
    """A run's state, coloured by its type (`Late` is yellow like every SCHEDULED state)."""
    from rich.text import Text

    if state_type is None:
        return Text("-", style="dim")
    return Text(state_name or state_type.value.capitalize(), style=STATE_STYLES.get(state_type, ""))


def format_time(moment: datetime | None) -> str:
    """A time in the local timezone, to the second; `-` when there is none."""
    if moment is None:
        return "-"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_precise_time(moment: datetime) -> str:
    """A time in the local timezone, to the millisecond (for log lines and state histories)."""
    local = moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S.") + f"{local.microsecond // 1000:03d}"


def format_duration(start: datetime | None, end: datetime | None, now: datetime | None = None) -> str:
    """How long a run took (or has been running, marked with `…`); `-` before it started."""
    if start is None:
        return "-"
    if end is None:
        if now is None:
            return "-"
        return _human_duration(now - start) + "…"
    return _human_duration(end - start)


def _human_duration(delta: timedelta) -> str:
    seconds = max(delta.total_seconds(), 0.0)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms" if seconds >= 0.0005 else "<1ms"
    if seconds < 60:
        return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def format_json_value(value: Any) -> str:
    """A value as compact JSON, for parameters and tags in a table cell."""
    return json.dumps(value, ensure_ascii=False, default=str)


def key_values(rows: Sequence[tuple[str, Any]]) -> Table:
    """A two-column grid of labels and values (a value may be text or any Rich renderable)."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, value)
    return grid
