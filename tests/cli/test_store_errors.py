"""A store the CLI cannot reach is one clear line on stderr and exit code 1, never a traceback."""

from __future__ import annotations

import socket

import pytest
from sample_store import Cli

from headwater.settings import temporary_settings
from headwater.testing.utilities import Harness


def _dead_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("args", [["flow-run", "ls"], ["flow-run", "inspect", "3f2a6c1e-9b0d-4c5e-8f7a-1b2c3d4e5f60"]])
def test_a_dead_api_url_says_it_cannot_reach_the_api(cli: Cli, harness: Harness, args: list[str]) -> None:
    url = f"http://127.0.0.1:{_dead_port()}/api"
    with temporary_settings(api_url=url):
        result = cli(*args)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"Cannot reach the Headwater API at {url}" in result.stderr
    assert "Traceback" not in result.output


def test_an_unreachable_database_says_so_without_its_password(cli: Cli, harness: Harness) -> None:
    url = f"postgresql+asyncpg://headwater:s3cret@127.0.0.1:{_dead_port()}/headwater"
    with temporary_settings(database_url=url):
        result = cli("flow-run", "ls", "-o", "json")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Cannot reach the Headwater store at postgresql+asyncpg://headwater:***@127.0.0.1" in result.stderr
    assert "s3cret" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
