"""`headwater deployment`: list, inspect, run, pause, resume and delete deployments.

A deployment is named `flow-name/deployment-name` (its id works too).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from headwater.cli._output import OutputFormat, OutputOption, console, dump, fail, print_json

if TYPE_CHECKING:
    from rich.console import RenderableType

    from headwater.schemas.deployments import Deployment, DeploymentSchedule
    from headwater.schemas.objects import FlowRun

app = typer.Typer(
    name="deployment",
    help="List, inspect, run, pause, resume and delete deployments (named `flow-name/deployment-name`).",
    no_args_is_help=True,
)

WATCH_STEP_SECONDS = 0.5
"""`run --watch` shows a state change at most this long after it happens (the final one at once)."""

DeploymentName = Annotated[
    str,
    typer.Argument(metavar="NAME", help="`flow-name/deployment-name`, or the deployment's id.", show_default=False),
]


@app.command("ls")
def list_deployments(
    flow: Annotated[
        list[str] | None,
        typer.Option("--flow", "-f", metavar="NAME", help="Only this flow's (repeat for several).", show_default=False),
    ] = None,
    pool: Annotated[
        list[str] | None,
        typer.Option("--pool", "-p", metavar="NAME", help="Only this work pool's (repeat).", show_default=False),
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """List deployments by flow name, then name."""
    from headwater.cli._store import call_store, pages
    from headwater.schemas.deployments import DeploymentFilter

    def fetch(offset: int, size: int) -> list[Deployment]:
        query = DeploymentFilter(flow_name=flow or None, work_pool_name=pool or None, limit=size, offset=offset)
        return call_store(lambda o: o.read_deployments(query))

    deployments = [d for page in pages(fetch, page_size=1000) for d in page]
    if output is OutputFormat.JSON:
        print_json([dump(d) for d in deployments])
        return
    if not deployments:
        typer.echo("No deployments found.")
        return
    from headwater.cli._output import table

    result = table("Name", "ID", "Work pool", "Schedules", "Status")
    for d in deployments:
        pool_name = f"{d.work_pool_name}/{d.work_queue_name}" if d.work_queue_name else d.work_pool_name or "-"
        schedules = ", ".join(_schedule(s) for s in d.schedules) or "-"
        result.add_row(f"{d.flow_name}/{d.name}", str(d.id), pool_name, schedules, "paused" if d.paused else "active")
    console().print(result)


@app.command("inspect")
def inspect(name: DeploymentName, output: OutputOption = OutputFormat.TABLE) -> None:
    """Show a deployment: what it runs, where, its default parameters and its schedules."""
    deployment = read_deployment(name)
    if output is OutputFormat.JSON:
        print_json(dump(deployment))
        return
    console().print(_details(deployment))


@app.command("run")
def run(
    name: DeploymentName,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            metavar="KEY=VALUE",
            help=(
                "A parameter (repeat for several). VALUE is read as JSON when it is JSON, else as a string; "
                "a parameter declared as a string gets the text as typed."
            ),
            show_default=False,
        ),
    ] = None,
    params: Annotated[
        str | None,
        typer.Option(
            "--params", metavar="JSON", help="Parameters as a JSON object (--param wins).", show_default=False
        ),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Wait for the run to end, showing its states; exit 0 if it completed.")
    ] = False,
    start_in: Annotated[
        float | None,
        typer.Option("--start-in", metavar="SECONDS", min=0, help="Due in SECONDS (default: now).", show_default=False),
    ] = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Create a run of a deployment; a worker polling its work pool starts it when it is due."""
    from datetime import timedelta

    from headwater.cli._resources import build, call_checked
    from headwater.cli._waiting import note_why_waiting
    from headwater.schemas._base import now_utc
    from headwater.schemas.deployments import DeploymentFlowRunCreate

    deployment = read_deployment(name)
    parameters = parse_parameters(params, param or [], deployment.parameter_openapi_schema)
    scheduled_time = now_utc() + timedelta(seconds=start_in) if start_in else None
    request = build(DeploymentFlowRunCreate, parameters=parameters, scheduled_time=scheduled_time)
    flow_run = call_checked(lambda o: o.create_flow_run_from_deployment(deployment.id, request))
    to_stderr = output is OutputFormat.JSON
    typer.echo(
        f"Created flow run {flow_run.name!r} ({flow_run.id}) of deployment '{deployment.flow_name}/{deployment.name}'.",
        err=to_stderr,
    )
    note_why_waiting(flow_run)
    if watch:
        flow_run = _watch(flow_run, err=to_stderr)
    if output is OutputFormat.JSON:
        print_json(dump(flow_run))
    if watch:
        from headwater.core.states import StateType

        raise typer.Exit(0 if flow_run.state_type is StateType.COMPLETED else 1)


@app.command("pause")
def pause(name: DeploymentName, output: OutputOption = OutputFormat.TABLE) -> None:
    """Pause a deployment: its schedules create no runs and its runs do not start until it is resumed."""
    _set_paused(name, True, output)


@app.command("resume")
def resume(name: DeploymentName, output: OutputOption = OutputFormat.TABLE) -> None:
    """Resume a paused deployment."""
    _set_paused(name, False, output)


@app.command("delete")
def delete(
    name: DeploymentName,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a deployment (its past runs stay)."""
    from headwater.cli._resources import call_checked

    deployment = read_deployment(name)
    full_name = f"{deployment.flow_name}/{deployment.name}"
    if not yes:
        typer.confirm(f"Delete deployment {full_name!r}?", abort=True)
    call_checked(lambda o: o.delete_deployment(deployment.id))
    typer.echo(f"Deleted deployment {full_name!r}.")


def read_deployment(name: str) -> Deployment:
    """The deployment a user named (`flow/deployment` or an id); exits 1 with the store's message (which
    lists the flow's deployments) when there is none."""
    from uuid import UUID

    from headwater.cli._resources import call_checked

    try:
        deployment_id = UUID(name.strip())
    except ValueError:
        pass
    else:
        return call_checked(lambda o: o.read_deployment(deployment_id))
    if name.count("/") != 1 or not all(name.split("/")):
        fail(f"{name!r} is not a deployment name: use 'flow-name/deployment-name' (see `headwater deployment ls`)")
    return call_checked(lambda o: o.read_deployment_by_name(name))


def parse_parameters(params: str | None, pairs: list[str], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """`--params` (a JSON object) updated with each `--param KEY=VALUE`: VALUE as JSON when it parses, else
    as a string — and always as the text typed for a parameter the schema declares a string (so
    `version=1.10` stays "1.10")."""
    properties = (schema or {}).get("properties", {})
    parameters: dict[str, Any] = {}
    if params is not None:
        try:
            parsed = json.loads(params)
        except ValueError as exc:
            raise typer.BadParameter(f"not valid JSON ({exc})", param_hint="'--params'") from None
        if not isinstance(parsed, dict):
            raise typer.BadParameter("give a JSON object, like '{\"x\": 1}'", param_hint="'--params'")
        parameters.update(parsed)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="'--param'")
        key = key.strip()
        if properties.get(key, {}).get("type") == "string":
            parameters[key] = value
            continue
        try:
            parameters[key] = json.loads(value)
        except ValueError:
            parameters[key] = value
    return parameters


def _set_paused(name: str, paused: bool, output: OutputFormat) -> None:
    from headwater.cli._resources import call_checked
    from headwater.schemas.deployments import DeploymentUpdate

    deployment = read_deployment(name)
    updated = call_checked(lambda o: o.update_deployment(deployment.id, DeploymentUpdate(paused=paused)))
    if output is OutputFormat.JSON:
        print_json(dump(updated))
        return
    typer.echo(f"{'Paused' if paused else 'Resumed'} deployment '{updated.flow_name}/{updated.name}'.")


def _watch(flow_run: FlowRun, *, err: bool) -> FlowRun:
    """Follow the run until it is final, printing each state it takes."""
    from headwater.cli._output import format_precise_time
    from headwater.cli._store import call_store
    from headwater.core.states import is_terminal

    run_id = flow_run.id
    seen: tuple[object, ...] | None = None
    while True:
        state = flow_run.state
        key = (state.id if state else None, flow_run.state_type)
        if key != seen:
            seen = key
            when = format_precise_time(state.timestamp) if state else "-"
            message = f"  {state.message}" if state and state.message else ""
            typer.echo(f"{when}  {flow_run.state_name or flow_run.state_type}{message}", err=err)
        if is_terminal(flow_run.state_type):
            return flow_run
        flow_run = call_store(lambda o: o.wait_for_flow_run(run_id, WATCH_STEP_SECONDS))


def _schedule(schedule: DeploymentSchedule) -> str:
    spec = schedule.schedule
    text = f"cron {spec.cron}" if spec.cron else f"every {spec.interval:g}s" if spec.interval else f"rrule {spec.rrule}"
    return text if schedule.active else f"{text} (inactive)"


def _details(d: Deployment) -> RenderableType:
    from rich.console import Group
    from rich.text import Text

    from headwater.cli._output import format_json_value, format_time, key_values

    limit = "-" if d.concurrency_limit is None else f"{d.concurrency_limit} ({d.collision_strategy.value})"
    rows: list[tuple[str, RenderableType]] = [
        ("Name", f"{d.flow_name}/{d.name}"),
        ("ID", str(d.id)),
        ("Status", "paused" if d.paused else "active"),
        ("Version", d.version or "-"),
        ("Description", d.description or "-"),
        ("Entrypoint", d.entrypoint),
        ("Path", d.path or "-"),
        ("Source", d.source or "-"),
        ("Work pool", d.work_pool_name or "-"),
        ("Work queue", d.work_queue_name or "-"),
        ("Parameters", format_json_value(d.parameters)),
        ("Parameter names", ", ".join(d.parameter_openapi_schema.get("properties", {})) or "-"),
        ("Tags", ", ".join(d.tags) or "-"),
        ("Schedules", "\n".join(_schedule(s) for s in d.schedules) or "-"),
        ("Concurrency limit", limit),
        ("Created", format_time(d.created)),
        ("Updated", format_time(d.updated)),
    ]
    return Group(Text("Deployment", style="bold underline"), key_values(rows))
