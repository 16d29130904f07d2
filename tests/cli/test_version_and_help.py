"""`headwater version`, `headwater --help`, and what starting the CLI costs."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

from sample_store import Cli

from headwater import __version__
from headwater.settings import temporary_settings
from headwater.testing.utilities import Harness


def test_version_names_the_database_in_use(cli: Cli, harness: Harness) -> None:
    result = cli("version")

    assert result.exit_code == 0, result.output
    assert f"Version:   {__version__}" in result.stdout
    assert platform.python_version() in result.stdout
    assert f"Database:  sqlite+aiosqlite:///{harness.home / 'headwater.db'}" in result.stdout


def test_version_names_the_api_when_one_is_set(cli: Cli, harness: Harness) -> None:
    with temporary_settings(api_url="http://headwater.example:4200/api"):
        result = cli("version", "--output", "json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "version": __version__,
        "python": platform.python_version(),
        "api_url": "http://headwater.example:4200/api",
        "database_url": None,
        "home": str(harness.home),
    }


def test_help_lists_the_command_groups(cli: Cli) -> None:
    result = cli("--help")

    assert result.exit_code == 0
    assert "flow-run" in result.stdout and "version" in result.stdout
    for command in ("ls", "inspect", "logs"):
        assert command in cli("flow-run", "--help").stdout


def test_starting_the_cli_loads_neither_the_store_nor_rich_tables() -> None:
    heavy = ["sqlalchemy", "httpx", "pydantic", "headwater._wiring", "headwater.schemas.objects", "rich.table"]
    code = f"import sys, headwater.cli; print([m for m in {heavy!r} if m in sys.modules])"

    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)

    assert completed.stdout.strip() == "[]"


def test_the_package_exports_only_the_app_and_main() -> None:
    import headwater.cli

    assert sorted(headwater.cli.__all__) == ["app", "main"]
