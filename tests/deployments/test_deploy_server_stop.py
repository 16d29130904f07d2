"""The server's long-polls (a worker asking for due runs, a `run_deployment` caller waiting for a run) end
when their client goes away: a server stopped right after its workers and callers stops at once, instead
of holding each abandoned poll for the rest of its wait (10 s for a worker, 30 s for a caller)."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from p3_support import Process, Worker, wait_for

from headwater.testing.utilities import HeadwaterServer

pytestmark = pytest.mark.slow

CALLER = textwrap.dedent(
    '''
    """Deploys a flow on a pool no worker polls, then waits for a run of it (forever)."""
    import sys

    from headwater import flow
    from headwater.deployments import run_deployment


    @flow(name="p3-never-run")
    def never_run() -> None:
        pass


    if __name__ == "__main__":
        never_run.deploy("waiting", work_pool_name=sys.argv[1])
        print("waiting for the run", flush=True)
        run_deployment("p3-never-run/waiting")
    '''
)


def test_a_server_stops_at_once_after_its_long_polling_clients_went_away(tmp_path: Path) -> None:
    server = HeadwaterServer(tmp_path / "server-home").start()
    env = {"HEADWATER_API_URL": server.api_url, "HEADWATER_HOME": str(tmp_path / "client-home")}
    worker = Worker("busy-pool", tmp_path / "worker.log", env=env)
    script = tmp_path / "caller.py"
    script.write_text(CALLER)
    caller = Process([sys.executable, str(script), "idle-pool"], tmp_path / "caller.log", env=env, cwd=tmp_path)
    try:
        worker.start()
        caller.launch().wait_for_output("waiting for the run")
        with httpx.Client(base_url=server.api_url, timeout=10) as api:
            # What each client does right before its long-poll: the worker's heartbeat, the caller's run.
            wait_for(lambda: api.post("/work_pools/busy-pool/workers/filter").json(), what="the worker's heartbeat")
            wait_for(
                lambda: api.post("/flow_runs/filter", json={"flow_name": ["p3-never-run"]}).json(),
                what="the caller's run",
            )

        worker.kill()
        caller.kill()
        started = time.monotonic()
        server.stop()

        assert time.monotonic() - started < 5, server.output()
    finally:
        worker.kill()
        caller.kill()
        server.stop()
