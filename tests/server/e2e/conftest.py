"""Fixtures for end-to-end tests: real server processes (`headwater server start`) over SQLite or a
throw-away PostgreSQL database, and programs run in their own processes against them.

- `start_server(database="sqlite", env=None)`: starts a `HeadwaterServer` (stopped at teardown) over a
  fresh SQLite file or a fresh PostgreSQL database (created through the `test` database, dropped after).
- `program(args, api_url=..., env=...)`: starts `python <args>` with `HEADWATER_API_URL` set, the
  acceptance folder on `PYTHONPATH` and as its working directory, and a private `HEADWATER_HOME`;
  returns a `Program` to wait on (its output is collected as it comes).
- `github_api`: the base URL of `fake_github.py` (session-wide).
- `Api(api_url)`: synchronous reads of a server's API for assertions.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from e2e_support import (
    ACCEPTANCE,
    HERE,
    PG_ADMIN_URL,
    Api,
    Program,
    StartProgram,
    StartServer,
    program_environment,
    wait_until,
)

from headwater.testing.utilities import HeadwaterServer, free_port


@pytest.fixture
def client_home(tmp_path: Path) -> Path:
    """The `HEADWATER_HOME` of the programs a test runs (their journal and profile live there)."""
    home = tmp_path / "client-home"
    home.mkdir()
    return home


@pytest.fixture
def program(client_home: Path) -> Iterator[StartProgram]:
    """Start `python <args>` (see the module docstring); killed at teardown if still running."""
    started: list[Program] = []

    def start(*args: str | Path, api_url: str | None, env: Mapping[str, str] | None = None) -> Program:
        cwd = ACCEPTANCE if ACCEPTANCE.is_dir() else HERE
        process = subprocess.Popen(
            [sys.executable, *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            env=program_environment(client_home, api_url, env),
            cwd=cwd,
        )
        started.append(Program(process, f"python {' '.join(map(str, args))}"))
        return started[-1]

    yield start
    for running in started:
        running.kill()
        for stream in (running.process.stdout, running.process.stderr):
            if stream is not None:
                stream.close()


async def _admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """`database_url("sqlite" | "postgres")`: the URL of a fresh store (a PostgreSQL database is dropped after)."""
    created: list[str] = []

    def make(kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path / f'store-{uuid.uuid4().hex[:8]}.db'}"
        name = f"headwater_e2e_{uuid.uuid4().hex[:12]}"
        try:
            asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        except OSError as exc:
            pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({exc}); deselect with -m 'not postgres'")
        created.append(name)
        return str(sa.make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name))

    yield make
    for name in created:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def start_server(tmp_path: Path, database_url: Callable[[str], str]) -> Iterator[StartServer]:
    """`start_server(database="sqlite", env=None, port=None)`: a running server; all are stopped at teardown.

    `database`: "sqlite" or "postgres" for a fresh store, or the URL of an existing one."""
    servers: list[HeadwaterServer] = []

    def start(
        database: str = "sqlite", env: Mapping[str, str] | None = None, port: int | None = None
    ) -> HeadwaterServer:
        home = tmp_path / f"server-home-{len(servers)}"
        url = database if "://" in database else database_url(database)
        server = HeadwaterServer(home, url, env=env, port=port)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def github_api() -> Iterator[str]:
    """The base URL of `fake_github.py`, on a free port."""
    if not ACCEPTANCE.is_dir():
        pytest.skip(f"the shared acceptance programs are not at {ACCEPTANCE}")
    port = free_port()
    with subprocess.Popen(
        [sys.executable, str(ACCEPTANCE / "fake_github.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as fake:
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            if fake.poll() is not None:
                pytest.fail(f"fake_github.py exited with {fake.returncode}")
            try:
                return httpx.get(f"{url}/repos/PrefectHQ/prefect", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        try:
            wait_until(answers, 15, "fake_github.py to answer")
            yield url
        finally:
            fake.terminate()
            fake.wait(10)


@pytest.fixture
def api() -> Iterator[Callable[..., Api]]:
    """`api(api_url, api_key=None)`: an `Api` reader, closed at teardown."""
    opened: list[Api] = []

    def make(api_url: str, api_key: str | None = None) -> Api:
        opened.append(Api(api_url, api_key))
        return opened[-1]

    yield make
    for reader in opened:
        reader.close()
