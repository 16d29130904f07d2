"""`headwater server start`, `headwater server database upgrade | reset`."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Run the Headwater server and manage its database.", no_args_is_help=True)
database_app = typer.Typer(help="Manage the server's database.", no_args_is_help=True)
app.add_typer(database_app, name="database")


def _server_settings() -> object:
    from headwater.server.settings import ServerSettings
    from headwater.settings import get_settings

    settings = get_settings()
    return ServerSettings(
        database_url=settings.resolved_database_url,
        auth_string=settings.server_api_auth_string.get_secret_value() if settings.server_api_auth_string else None,
        crash_detection_grace_seconds=settings.crash_detection_grace_seconds,
        crash_detection_loop_seconds=settings.crash_detection_loop_seconds,
        scheduler_loop_seconds=settings.scheduler_loop_seconds,
    )


@app.command("start")
def start(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: HEADWATER_SERVER_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: HEADWATER_SERVER_PORT, 4200).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "warning",
) -> None:
    """Serve the API (at /api) over the configured database until Ctrl-C or SIGTERM."""
    import uvicorn

    from headwater.cli._store import hide_password
    from headwater.server.api.app import create_app
    from headwater.server.settings import ServerSettings
    from headwater.settings import get_settings

    settings = get_settings()
    server_settings = _server_settings()
    assert isinstance(server_settings, ServerSettings)
    bind_host = host or settings.server_host
    bind_port = settings.server_port if port is None else port
    typer.echo(
        f"Headwater server on http://{bind_host}:{bind_port}/api "
        f"(database: {hide_password(server_settings.database_url)}"
        f"{', API auth on' if server_settings.auth_string else ''}). Ctrl-C stops it."
    )
    uvicorn.run(
        create_app(server_settings), host=bind_host, port=bind_port, log_level=log_level, timeout_graceful_shutdown=10
    )


@database_app.command("upgrade")
def upgrade() -> None:
    """Create the database if needed and migrate it to the newest schema."""
    import asyncio

    from headwater.server.storage.database import Database
    from headwater.settings import get_settings

    async def run() -> None:
        db = Database(get_settings().resolved_database_url)
        await db.open()
        await db.upgrade()
        await db.close()

    asyncio.run(run())
    typer.echo("Database is at the newest schema.")


@database_app.command("reset")
def reset(yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False) -> None:
    """Drop every table and recreate the schema: all runs, states and logs are deleted."""
    import asyncio

    from headwater.cli._store import hide_password
    from headwater.server.storage.database import Database
    from headwater.settings import get_settings

    url = get_settings().resolved_database_url
    if not yes:
        typer.confirm(f"Delete everything in {hide_password(url)}?", abort=True)

    async def run() -> None:
        db = Database(url)
        await db.open()
        await db.reset()
        await db.close()

    asyncio.run(run())
    typer.echo("Database reset.")
