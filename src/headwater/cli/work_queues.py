"""`headwater work-queue`: create and list the queues of a work pool, pause and resume one."""

from __future__ import annotations

from typing import Annotated

import typer

from headwater.cli._output import OutputFormat, OutputOption, console, dump, print_json

app = typer.Typer(
    name="work-queue",
    help="Manage the queues of a work pool (every pool has a queue `default`; lower priority numbers go first).",
    no_args_is_help=True,
)

QueueName = Annotated[str, typer.Argument(metavar="NAME", help="The queue's name.", show_default=False)]
PoolOption = Annotated[
    str, typer.Option("--pool", "-p", metavar="POOL", help="The work pool the queue is in.", show_default=False)
]


@app.command("create")
def create(
    name: QueueName,
    pool: PoolOption,
    priority: Annotated[
        int, typer.Option("--priority", metavar="N", min=1, help="Lower numbers are served first.")
    ] = 1,
    concurrency_limit: Annotated[
        int | None,
        typer.Option("--concurrency-limit", "-c", metavar="N", min=0, help="At most N runs at once from the queue."),
    ] = None,
    description: Annotated[str | None, typer.Option("--description", "-d", help="What the queue is for.")] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Create a queue in a work pool."""
    from headwater.cli._resources import build, call_checked
    from headwater.schemas.work_pools import WorkQueueCreate

    request = build(
        WorkQueueCreate, name=name, priority=priority, concurrency_limit=concurrency_limit, description=description
    )
    queue = call_checked(lambda o: o.create_work_queue(pool, request))
    if output is OutputFormat.JSON:
        print_json(dump(queue))
        return
    typer.echo(f"Created work queue {queue.name!r} in work pool {queue.work_pool_name!r}.")


@app.command("ls")
def list_queues(pool: PoolOption, output: OutputOption = OutputFormat.TABLE) -> None:
    """List a work pool's queues, by priority."""
    from headwater.cli._resources import call_checked

    queues = call_checked(lambda o: o.read_work_queues(pool))
    if output is OutputFormat.JSON:
        print_json([dump(queue) for queue in queues])
        return
    from headwater.cli._output import table

    result = table("Name", "Priority", "Concurrency limit", "Paused", "Description", title=f"Work pool {pool!r}")
    for queue in queues:
        limit = "-" if queue.concurrency_limit is None else str(queue.concurrency_limit)
        result.add_row(queue.name, str(queue.priority), limit, "yes" if queue.paused else "no", queue.description or "")
    console().print(result)


@app.command("pause")
def pause(name: QueueName, pool: PoolOption, output: OutputOption = OutputFormat.TABLE) -> None:
    """Pause a queue: no new run of it starts until it is resumed."""
    _set_paused(pool, name, True, output)


@app.command("resume")
def resume(name: QueueName, pool: PoolOption, output: OutputOption = OutputFormat.TABLE) -> None:
    """Resume a paused queue."""
    _set_paused(pool, name, False, output)


def _set_paused(pool: str, name: str, paused: bool, output: OutputFormat) -> None:
    from headwater.cli._resources import call_checked
    from headwater.schemas.work_pools import WorkQueueUpdate

    queue = call_checked(lambda o: o.update_work_queue(pool, name, WorkQueueUpdate(paused=paused)))
    if output is OutputFormat.JSON:
        print_json(dump(queue))
        return
    typer.echo(f"{'Paused' if paused else 'Resumed'} work queue {queue.name!r} of work pool {queue.work_pool_name!r}.")
