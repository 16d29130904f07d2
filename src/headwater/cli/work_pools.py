"""`headwater work-pool`: create, list, inspect, pause, resume and delete work pools.

A pool's queues are managed with `headwater work-queue` (a group of its own).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from headwater.cli._output import OutputFormat, OutputOption, console, dump, print_json

if TYPE_CHECKING:
    from rich.console import RenderableType

    from headwater.schemas.work_pools import Worker, WorkPool, WorkQueue

app = typer.Typer(
    name="work-pool",
    help="Manage work pools: where deployment runs wait for a worker. Queues: `headwater work-queue`.",
    no_args_is_help=True,
)

PoolName = Annotated[str, typer.Argument(metavar="NAME", help="The work pool's name.", show_default=False)]


@app.command("create")
def create(
    name: PoolName,
    type_: Annotated[str, typer.Option("--type", "-t", help="The kind of worker that serves it.")] = "process",
    concurrency_limit: Annotated[
        int | None,
        typer.Option("--concurrency-limit", "-c", metavar="N", min=0, help="At most N runs at once in the pool."),
    ] = None,
    description: Annotated[str | None, typer.Option("--description", "-d", help="What the pool is for.")] = None,
    paused: Annotated[bool, typer.Option("--paused", help="Create it paused (no run starts).")] = False,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Create a work pool (with its queue `default`)."""
    from headwater.cli._resources import build, call_checked
    from headwater.schemas.work_pools import WorkPoolCreate

    request = build(
        WorkPoolCreate,
        name=name,
        type=type_,
        concurrency_limit=concurrency_limit,
        description=description,
        paused=paused,
    )
    pool = call_checked(lambda o: o.create_work_pool(request))
    if output is OutputFormat.JSON:
        print_json(dump(pool))
        return
    typer.echo(
        f"Created work pool {pool.name!r} ({pool.type}). Start a worker: headwater worker start --pool {pool.name}"
    )


@app.command("ls")
def list_pools(output: OutputOption = OutputFormat.TABLE) -> None:
    """List work pools by name, with their status."""
    from headwater.cli._store import call_store

    pools = call_store(lambda o: o.read_work_pools())
    if output is OutputFormat.JSON:
        print_json([dump(pool) for pool in pools])
        return
    if not pools:
        typer.echo("No work pools. Create one: headwater work-pool create NAME")
        return
    from headwater.cli._output import table

    result = table("Name", "Type", "Status", "Concurrency limit", "Description")
    for pool in pools:
        result.add_row(pool.name, pool.type, _status(pool), _limit(pool.concurrency_limit), pool.description or "")
    console().print(result)


@app.command("inspect")
def inspect(name: PoolName, output: OutputOption = OutputFormat.TABLE) -> None:
    """Show a work pool: its settings and status, its queues, and the workers polling it."""
    from headwater.cli._resources import call_checked

    pool = call_checked(lambda o: o.read_work_pool(name))
    queues = call_checked(lambda o: o.read_work_queues(name))
    workers = call_checked(lambda o: o.read_workers(name))
    if output is OutputFormat.JSON:
        print_json(
            {
                "work_pool": dump(pool),
                "work_queues": [dump(queue) for queue in queues],
                "workers": [dump(worker) for worker in workers],
            }
        )
        return
    out = console()
    for part in _details(pool, queues, workers):
        out.print(part)


@app.command("pause")
def pause(name: PoolName, output: OutputOption = OutputFormat.TABLE) -> None:
    """Pause a work pool: no new run of it starts until it is resumed (running ones go on)."""
    _set_paused(name, True, output)


@app.command("resume")
def resume(name: PoolName, output: OutputOption = OutputFormat.TABLE) -> None:
    """Resume a paused work pool: its due runs start again."""
    _set_paused(name, False, output)


@app.command("delete")
def delete(
    name: PoolName,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a work pool and its queues (past runs stay)."""
    from headwater.cli._resources import call_checked

    call_checked(lambda o: o.read_work_pool(name))
    if not yes:
        typer.confirm(f"Delete work pool {name!r} and its queues?", abort=True)
    call_checked(lambda o: o.delete_work_pool(name))
    typer.echo(f"Deleted work pool {name!r}.")


def _set_paused(name: str, paused: bool, output: OutputFormat) -> None:
    from headwater.cli._resources import call_checked
    from headwater.schemas.work_pools import WorkPoolUpdate

    pool = call_checked(lambda o: o.update_work_pool(name, WorkPoolUpdate(paused=paused)))
    if output is OutputFormat.JSON:
        print_json(dump(pool))
        return
    typer.echo(f"{'Paused' if paused else 'Resumed'} work pool {pool.name!r}.")


def _status(pool: WorkPool) -> str:
    return "PAUSED" if pool.paused else pool.status.value


def _limit(limit: int | None) -> str:
    return "-" if limit is None else str(limit)


def _details(pool: WorkPool, queues: list[WorkQueue], workers: list[Worker]) -> list[RenderableType]:
    from rich.console import Group
    from rich.text import Text

    from headwater.cli._output import format_time, key_values, table

    rows: list[tuple[str, RenderableType]] = [
        ("Name", pool.name),
        ("ID", str(pool.id)),
        ("Type", pool.type),
        ("Status", _status(pool)),
        ("Concurrency limit", _limit(pool.concurrency_limit)),
        ("Description", pool.description or "-"),
        ("Created", format_time(pool.created)),
    ]
    parts: list[RenderableType] = [Group(Text("Work pool", style="bold underline"), key_values(rows)), Text("")]
    queue_table = table("Name", "Priority", "Concurrency limit", "Paused", "Description", title="Work queues")
    for queue in queues:
        queue_table.add_row(
            queue.name,
            str(queue.priority),
            _limit(queue.concurrency_limit),
            "yes" if queue.paused else "no",
            queue.description or "",
        )
    parts += [queue_table if queues else Text("Work queues: none", style="dim"), Text("")]
    if workers:
        worker_table = table("Name", "Status", "Last heartbeat", title="Workers")
        for worker in workers:
            worker_table.add_row(worker.name, worker.status.value, format_time(worker.last_heartbeat_time))
        parts.append(worker_table)
    else:
        parts.append(Text(f"Workers: none. Start one: headwater worker start --pool {pool.name}", style="dim"))
    return parts
