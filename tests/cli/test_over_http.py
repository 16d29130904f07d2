"""With `HEADWATER_API_URL` set the CLI reads through the server's API, and says the same as embedded."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sample_store import Cli, SampleRuns

from headwater.settings import temporary_settings

SERVE = """
import sys
import uvicorn
from headwater.server.api.app import create_app
from headwater.server.settings import ServerSettings

app = create_app(ServerSettings(database_url=sys.argv[1]), run_loops=False)
uvicorn.run(app, host="127.0.0.1", port=0, log_level="info", access_log=False)
"""


@pytest.fixture
def api_url(sample: SampleRuns) -> Iterator[str]:
    """The API of a server process over the sample store (on a port the OS chose)."""
    with subprocess.Popen(
        [sys.executable, "-c", SERVE, sample.harness.database_url], stderr=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stderr is not None
            for line in server.stderr:  # ends if the server dies; the test timeout bounds the wait
                found = re.search(r"running on (http://127\.0\.0\.1:\d+)", line)
                if found:
                    yield found.group(1) + "/api"
                    break
            else:
                pytest.fail(f"the server exited with {server.wait()} before serving")
        finally:
            server.terminate()
            server.wait(timeout=30)


@pytest.mark.slow
def test_ls_inspect_and_logs_say_the_same_over_http(cli: Cli, sample: SampleRuns, api_url: str) -> None:
    commands = [
        ["flow-run", "ls", "-o", "json"],
        ["flow-run", "ls", "-s", "failed", "-f", "failing", "-f", "etl", "-o", "json"],
        ["flow-run", "inspect", str(sample.parent), "-o", "json"],
        ["flow-run", "logs", str(sample.etl[0]), "-o", "json"],
        ["flow-run", "logs", str(sample.etl[0])],
    ]
    embedded = [cli(*args) for args in commands]
    with temporary_settings(api_url=api_url):
        over_http = [cli(*args) for args in commands]
        unknown = cli("flow-run", "inspect", "3f2a6c1e-9b0d-4c5e-8f7a-1b2c3d4e5f60")

    for args, here, there in zip(commands, embedded, over_http, strict=True):
        assert here.exit_code == there.exit_code == 0, (args, there.output)
        assert here.stdout == there.stdout, args
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "No flow run with id 3f2a6c1e-9b0d-4c5e-8f7a-1b2c3d4e5f60"
