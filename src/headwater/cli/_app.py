"""The `headwater` command: the root Typer app, `headwater version`, and the command groups.

Each command group is one module exposing a Typer `app`, added below with one line. Group modules
import only Typer at module level, so `headwater --help` never loads SQLAlchemy, the engine or Rich
tables; commands import what they need when they run.
"""

from __future__ import annotations

import platform
import sys

import typer

from headwater.cli import _store, config, deployments, flow_runs, server, work_pools, work_queues, workers
from headwater.cli._output import OutputFormat, OutputOption, print_json

app = typer.Typer(
    name="headwater",
    help="Headwater: run, record and orchestrate Python workflows.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(flow_runs.app, name="flow-run")
app.add_typer(server.app, name="server")
app.add_typer(config.app, name="config")
app.add_typer(deployments.app, name="deployment")
app.add_typer(work_pools.app, name="work-pool")
app.add_typer(work_queues.app, name="work-queue")
app.add_typer(workers.app, name="worker")


@app.callback()
def _root(ctx: typer.Context) -> None:
    # Connections opened by a command are closed when it ends, whatever the outcome.
    ctx.call_on_close(_store.close)


@app.command("version")
def version(output: OutputOption = OutputFormat.TABLE) -> None:
    """Show Headwater's version, Python's, and the API or database the CLI talks to."""
    from headwater._version import __version__
    from headwater.settings import get_settings

    settings = get_settings()
    info = {
        "version": __version__,
        "python": platform.python_version(),
        "api_url": settings.api_url,
        "database_url": None if settings.api_url else _store.hide_password(settings.resolved_database_url),
        "home": str(settings.home),
    }
    if output is OutputFormat.JSON:
        print_json(info)
        return
    rows = [("Version", __version__), ("Python", f"{info['python']} ({sys.executable})")]
    if settings.api_url:
        rows.append(("API URL", settings.api_url))
    else:
        rows.append(("Database", str(info["database_url"])))
    rows.append(("Home", str(settings.home)))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        typer.echo(f"{label + ':':<{width + 1}}  {value}")


def main() -> None:
    """Run the `headwater` command (the console script's entry point)."""
    _use_utf8_when_piped()
    app(prog_name="headwater")


def _use_utf8_when_piped() -> None:
    """Write UTF-8 to pipes and files whatever the locale, so emoji in log lines and JSON survive."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        reconfigure = getattr(stream, "reconfigure", None)
        if encoding != "utf8" and reconfigure is not None and not stream.isatty():
            reconfigure(encoding="utf-8")
