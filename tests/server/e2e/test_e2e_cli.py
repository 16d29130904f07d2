"""The CLI around a server: `server database upgrade | reset`, `config set HEADWATER_API_URL=…`, and
`HEADWATER_API_KEY` sent by the SDK and the CLI to a server that requires it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from e2e_support import DATABASES, PROGRAMS, Api, run_cli

if TYPE_CHECKING:
    from conftest import StartProgram, StartServer


pytestmark = pytest.mark.slow  # each runs several CLI and flow processes


def _listed_ids(home: Path, env: dict[str, str] | None = None) -> list[str]:
    done = run_cli("flow-run", "ls", "-o", "json", home=home, env=env)
    assert done.returncode == 0, done.stderr
    return [run["id"] for run in json.loads(done.stdout)]


@pytest.mark.parametrize("database", DATABASES)
def test_upgrade_is_idempotent_and_reset_empties_the_store(
    database: str,
    database_url: Callable[[str], str],
    start_server: StartServer,
    program: StartProgram,
    api: Callable[..., Api],
    tmp_path: Path,
) -> None:
    url = database_url(database)
    admin = {"HEADWATER_DATABASE_URL": url}
    home = tmp_path / "admin-home"
    home.mkdir()
    for _ in range(2):
        done = run_cli("server", "database", "upgrade", home=home, env=admin)
        assert done.returncode == 0 and "Database is at the newest schema." in done.stdout, done.stderr

    server = start_server(url)
    program(PROGRAMS, "tiny", api_url=server.api_url).finish()
    reader = api(server.api_url)
    assert reader.count() == 1
    server.stop()

    upgraded = run_cli("server", "database", "upgrade", home=home, env=admin)
    assert upgraded.returncode == 0, upgraded.stderr
    refused = run_cli("server", "database", "reset", home=home, env=admin)  # no --yes, no answer: aborted
    assert refused.returncode != 0 and "Delete everything" in refused.stdout
    server.start()
    assert reader.count() == 1  # neither upgrade nor the refused reset touched the runs
    server.stop()

    reset = run_cli("server", "database", "reset", "--yes", home=home, env=admin)
    assert reset.returncode == 0 and "Database reset." in reset.stdout, reset.stderr
    server.start()
    assert reader.count() == 0
    assert reader.client.post("flows/filter").json() == []
    program(PROGRAMS, "tiny", api_url=server.api_url).finish()  # the schema is there again
    assert reader.count() == 1


def test_config_set_api_url_points_the_sdk_and_the_cli_at_the_server(
    start_server: StartServer, program: StartProgram, client_home: Path, api: Callable[..., Api]
) -> None:
    server = start_server()
    done = run_cli("config", "set", f"HEADWATER_API_URL={server.api_url}", home=client_home)
    assert done.returncode == 0, done.stderr
    view = run_cli("config", "view", home=client_home)
    assert f"HEADWATER_API_URL={server.api_url} (profile)" in view.stdout

    flow = program(PROGRAMS, "tiny", api_url=None).finish()  # no HEADWATER_API_URL in its environment
    run_id = flow.wait_for_line(r"run (\S+)").group(1)
    assert [r["id"] for r in api(server.api_url).flow_runs()] == [run_id]
    assert not (client_home / "headwater.db").exists()  # nothing went to an embedded store
    assert _listed_ids(client_home) == [run_id]

    unset = run_cli("config", "unset", "HEADWATER_API_URL", home=client_home)
    assert unset.returncode == 0, unset.stderr
    assert _listed_ids(client_home) == []  # the (empty) embedded store again


def test_the_sdk_and_the_cli_send_headwater_api_key(
    start_server: StartServer, program: StartProgram, client_home: Path, api: Callable[..., Api]
) -> None:
    server = start_server(env={"HEADWATER_SERVER_API_AUTH_STRING": "e2e-secret"})
    assert httpx.get(f"{server.api_url}/health").status_code == 401
    key = {"HEADWATER_API_KEY": "e2e-secret"}

    flow = program(PROGRAMS, "tiny", api_url=server.api_url, env=key).finish()
    run_id = flow.wait_for_line(r"run (\S+)").group(1)
    assert api(server.api_url, "e2e-secret").flow_run(run_id)["state_type"] == "COMPLETED"
    with_key = {"HEADWATER_API_URL": server.api_url, **key}
    assert _listed_ids(client_home, with_key) == [run_id]

    for wrong in ({}, {"HEADWATER_API_KEY": "not-it"}):
        refused = run_cli("flow-run", "ls", home=client_home, env={"HEADWATER_API_URL": server.api_url, **wrong})
        assert refused.returncode == 1
        assert "401" in refused.stderr and "HEADWATER_API_KEY" in refused.stderr, refused.stderr

    # A flow without the key still completes; its records wait in the journal, saying why.
    keyless = program(
        PROGRAMS, "tiny", api_url=server.api_url, env={"HEADWATER_RECORD_FLUSH_TIMEOUT_SECONDS": "0.5"}
    ).finish()
    assert "HEADWATER_API_KEY" in keyless.stderr
    assert list((client_home / "journal").rglob("*.json"))
    program(PROGRAMS, "tiny", api_url=server.api_url, env=key).finish()  # with the key: replayed
    assert len(_listed_ids(client_home, with_key)) == 3
    assert not list((client_home / "journal").rglob("*.json"))
