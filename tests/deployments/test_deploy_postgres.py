"""The flow of deployments with the server on PostgreSQL (a fresh database, created and dropped through the
`test` database of the machine's server): the tests of the other modules named here, run again against it."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from p3_support import PG_ADMIN_URL
from test_deploy_cancellation import (
    test_cancelling_a_parent_deployment_run_cancels_the_child_it_waits_for as test_pg_cancelling_reaches_the_child,
)
from test_deploy_run_deployment import (
    test_a_child_that_crashes_is_returned_crashed_naming_the_exit_code as test_pg_a_crashed_child_is_returned,
)
from test_deploy_run_deployment import (
    test_waiting_and_not_waiting_from_a_flow_with_the_childs_result as test_pg_waiting_and_not_waiting,
)

from headwater._wiring import close_shared
from headwater.engine.portal import get_portal
from headwater.engine.recorder import reset_recorder
from headwater.settings import temporary_settings
from headwater.testing.utilities import Harness, HeadwaterServer, headwater_test_harness

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

__all__ = [
    "test_pg_a_crashed_child_is_returned",
    "test_pg_cancelling_reaches_the_child",
    "test_pg_the_server_serves_postgresql",
    "test_pg_waiting_and_not_waiting",
]


async def _admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """The URL of a fresh PostgreSQL database, dropped after the module."""
    name = f"headwater_p3_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({exc}); deselect with -m 'not postgres'")
    try:
        yield str(sa.make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name))
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def server(postgres_url: str, server_env: dict[str, str]) -> Iterator[Harness]:
    """A server process over the PostgreSQL database; this process and those it starts use it (and share a
    throw-away HEADWATER_HOME, where results are persisted)."""
    with headwater_test_harness() as local:
        process = HeadwaterServer(local.home / "server", postgres_url, env=server_env).start()
        os.environ["HEADWATER_API_URL"] = process.api_url
        try:
            with temporary_settings(api_url=process.api_url):
                reset_recorder()
                try:
                    yield Harness(local.home, postgres_url, api_url=process.api_url, server=process)
                finally:
                    reset_recorder()  # flushes to the server while it still runs
                    get_portal().call(close_shared())
        finally:
            process.stop()
            os.environ.pop("HEADWATER_API_URL", None)


def test_pg_the_server_serves_postgresql(server: Harness) -> None:
    import httpx

    assert httpx.get(f"{server.api_url}/health", timeout=10).json()["database"] == "postgresql"
