"""`headwater config set | unset | view`: settings kept in `$HEADWATER_HOME/profile.toml`."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="View and change settings kept in the profile file.", no_args_is_help=True)

_SECRET_FIELDS = {"api_key", "server_api_auth_string"}


def _profile() -> Path:
    from headwater.settings import profile_path

    return profile_path()


def _read(path: Path) -> dict[str, object]:
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        return dict(tomllib.load(f))


def _write(path: Path, values: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # TOML basic strings take JSON's escapes; numbers and booleans are written as they are.
    lines = [f"{key} = {json.dumps(value)}" for key, value in sorted(values.items())]
    path.write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")


def _field_for(key: str) -> str:
    from headwater.settings import ENV_PREFIX, Settings

    name = key.strip().upper().removeprefix(ENV_PREFIX).lower()
    if name not in Settings.model_fields:
        known = ", ".join(f"{ENV_PREFIX}{n.upper()}" for n in sorted(Settings.model_fields))
        raise typer.BadParameter(f"Unknown setting {key!r}. Known settings: {known}.")
    return name


@app.command("set")
def set_(
    assignments: Annotated[list[str], typer.Argument(help="One or more NAME=VALUE, e.g. HEADWATER_API_URL=…")],
) -> None:
    """Save settings to the profile file (environment variables still take precedence)."""
    from pydantic import ValidationError

    from headwater.settings import ENV_PREFIX, Settings

    path = _profile()
    values = _read(path)
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep:
            raise typer.BadParameter(f"{assignment!r} is not NAME=VALUE.")
        name = _field_for(key)
        try:
            Settings.model_validate({name: value})
        except ValidationError as exc:
            raise typer.BadParameter(f"{key}: {exc.errors()[0]['msg']}") from None
        values[f"{ENV_PREFIX}{name.upper()}"] = value
        typer.echo(f"Set {ENV_PREFIX}{name.upper()}.")
    _write(path, values)


@app.command("unset")
def unset(names: Annotated[list[str], typer.Argument(help="Settings to remove from the profile file.")]) -> None:
    """Remove settings from the profile file."""
    from headwater.settings import ENV_PREFIX

    path = _profile()
    values = _read(path)
    for key in names:
        full = f"{ENV_PREFIX}{_field_for(key).upper()}"
        if values.pop(full, None) is None:
            typer.echo(f"{full} was not set in {path}.")
        else:
            typer.echo(f"Unset {full}.")
    _write(path, values)


@app.command("view")
def view(
    show_secrets: Annotated[bool, typer.Option(help="Show secret values instead of ********.")] = False,
) -> None:
    """Show the settings in force and where each comes from (environment, profile, default)."""
    import os

    from headwater.settings import ENV_PREFIX, get_settings

    settings = get_settings()
    profile = _read(_profile())
    typer.echo(f"Profile file: {_profile()}")
    for name in sorted(type(settings).model_fields):
        env_name = f"{ENV_PREFIX}{name.upper()}"
        value = getattr(settings, name)
        if value is not None and hasattr(value, "get_secret_value"):
            value = value.get_secret_value() if show_secrets else "********"
        source = "env" if env_name in os.environ else "profile" if env_name in profile else "default"
        typer.echo(f"{env_name}={'' if value is None else value} ({source})")
