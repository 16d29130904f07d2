"""`headwater worker start`: run a process worker for a work pool in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

from headwater.cli._output import fail

app = typer.Typer(name="worker", help="Run a worker: it starts the due runs of a work pool.", no_args_is_help=True)


@app.command("start")
def start(
    pool: Annotated[
        str,
        typer.Option(
            "--pool", "-p", metavar="NAME", help="The work pool to poll (created when missing).", show_default=False
        ),
    ],
    queue: Annotated[
        list[str] | None,
        typer.Option(
            "--queue",
            "-q",
            metavar="NAME",
            help="Only runs of this queue of the pool (repeat for several; default: all).",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-l", metavar="N", min=1, help="At most N runs at once.", show_default=False),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", "-n", help="The worker's name (default: host and process id).", show_default=False),
    ] = None,
    prefetch_seconds: Annotated[
        float,
        typer.Option("--prefetch-seconds", metavar="SECONDS", min=0, help="Claim runs due within SECONDS."),
    ] = 0.0,
    shutdown_grace: Annotated[
        float,
        typer.Option(
            "--shutdown-grace",
            metavar="SECONDS",
            min=0,
            help="On Ctrl-C or SIGTERM, how long running runs may go on before they are stopped.",
        ),
    ] = 10.0,
) -> None:
    """Start a process worker: each due run of the pool runs in a subprocess here, its output shown with the
    run's name. Ctrl-C (or SIGTERM) stops it; a second Ctrl-C stops the running runs at once."""
    from headwater.exceptions import HeadwaterException
    from headwater.workers import ProcessWorker

    worker = ProcessWorker(
        pool,
        work_queue_names=queue or None,
        limit=limit,
        name=name,
        prefetch_seconds=prefetch_seconds,
        shutdown_grace_seconds=shutdown_grace,
    )
    try:
        worker.start()
    except HeadwaterException as exc:
        fail(getattr(exc, "detail", None) or str(exc))
    except OSError as exc:
        fail(f"The worker could not reach the Headwater store: {exc}")
