"""The `headwater` command line: `headwater version`, `headwater flow-run ls | inspect | logs`.

`app` is the Typer application (for `typer.testing.CliRunner`); `main()` is the console script.
"""

from headwater.cli._app import app, main

__all__ = ["app", "main"]
