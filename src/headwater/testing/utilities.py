"""`headwater_test_harness()`: point everything at a throw-away store for the duration of a block.

    from headwater.testing.utilities import headwater_test_harness

    @pytest.fixture(autouse=True, scope="session")
    def headwater_store():
        with headwater_test_harness():
            yield

Inside the block, flows record into a fresh SQLite file in a temporary folder (even if
`HEADWATER_API_URL` is set outside), results are persisted under that folder, and worker processes
started meanwhile inherit the same settings. Everything is flushed and removed at the end.

With `server=True` the block also runs a real server (`headwater server start`) in a child process
over that SQLite file, on a free port of 127.0.0.1, and everything (this process and the processes it
starts) talks to it through `HEADWATER_API_URL`; the server is stopped at the end:

    with headwater_test_harness(server=True) as harness:
        my_flow()                       # recorded through the server's API at harness.api_url

`HeadwaterServer` is the server process on its own, for tests that stop, kill or restart it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from headwater.engine.recorder import reset_recorder
from headwater.settings import temporary_settings

_ENV_KEYS = ("HEADWATER_HOME", "HEADWATER_API_URL", "HEADWATER_DATABASE_URL")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (another process may still take it before you do)."""
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


class ServerStartError(RuntimeError):
    """The server process did not come up; the message carries its output."""


class HeadwaterServer:
    """A `headwater server start` process on 127.0.0.1, for tests.

    Args:
        home: the server's `HEADWATER_HOME`; its output goes to `home / "server.log"`.
        database_url: the store it serves (default: SQLite at `home / "headwater.db"`).
        port: the port to listen on (default: a free one, chosen at the first start and kept across
            restarts, so clients find a restarted server at the same URL).
        env: extra environment variables for the server (e.g. `HEADWATER_CRASH_DETECTION_GRACE_SECONDS`).
        startup_timeout: how long to wait for `/api/health` to answer.

    Use it as a context manager (`with HeadwaterServer(home) as server: ...`) or call `start` and
    `stop`; `kill` ends it with SIGKILL (a crash), `restart` starts it again on the same port.
    """

    def __init__(
        self,
        home: Path,
        database_url: str | None = None,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.home = Path(home)
        self.database_url = database_url or f"sqlite+aiosqlite:///{self.home / 'headwater.db'}"
        self.port = port
        self.env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.log_path = self.home / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    # -- addresses --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        if self.port is None:
            raise RuntimeError("the server has not been started yet: it has no port")
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The value for `HEADWATER_API_URL`: `http://127.0.0.1:<port>/api`."""
        return f"{self.url}/api"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    # -- life cycle -------------------------------------------------------------------------------
    def start(self) -> HeadwaterServer:
        """Start the server and return once `/api/health` answers.

        Raises:
            ServerStartError: it exited or did not answer within `startup_timeout`; the message
                carries its output.
        """
        if self.running:
            raise RuntimeError(f"the server at {self.url} is already running")
        choose_port = self.port is None
        attempts = 3 if choose_port else 1
        for attempt in range(attempts):
            if choose_port:
                self.port = free_port()
            try:
                self._launch_and_wait()
                return self
            except ServerStartError:
                # Another process may have taken the port between choosing and binding it: try another.
                if attempt == attempts - 1 or "address already in use" not in self.output().lower():
                    raise
        raise AssertionError("unreachable")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: the server dies at once, as in a crash (no shutdown, no cleanup)."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait(30)
        self.process = None

    def restart(self) -> HeadwaterServer:
        """Stop it if it runs, and start it again on the same port."""
        self.stop()
        return self.start()

    def output(self) -> str:
        """Everything the server printed so far (all its starts)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> HeadwaterServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if k != "HEADWATER_API_URL"}
        environ.update(
            HEADWATER_HOME=str(self.home),
            HEADWATER_DATABASE_URL=self.database_url,
            PYTHONUNBUFFERED="1",
            PYTHONIOENCODING="utf-8",
        )
        environ.update(self.env)
        return environ

    def _launch_and_wait(self) -> None:
        import httpx

        self.home.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "headwater.cli", "server", "start", "--host", "127.0.0.1"]
        command += ["--port", str(self.port)]
        with self.log_path.open("ab") as log:
            log.write(f"--- {' '.join(command)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self._environment()
            )
        deadline = time.monotonic() + self.startup_timeout
        with httpx.Client(timeout=2.0) as client:
            while True:
                exit_code = self.process.poll()
                if exit_code is not None:
                    self.process = None
                    raise ServerStartError(
                        f"The Headwater server exited with status {exit_code} before answering at "
                        f"{self.api_url}/health. Its output:\n{self.output()}"
                    )
                try:
                    client.get(f"{self.api_url}/health")
                    return  # any HTTP answer (401 included, when it requires a key) means it serves
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServerStartError(
                        f"The Headwater server did not answer at {self.api_url}/health within "
                        f"{self.startup_timeout:g} seconds. Its output:\n{self.output()}"
                    )
                time.sleep(0.05)


@dataclass(frozen=True)
class Harness:
    """What the harness set up.

    Attributes:
        home: the temporary `HEADWATER_HOME`.
        database_url: the store's SQLite file.
        api_url: in server mode, the server's API (`HEADWATER_API_URL`); None otherwise.
        server: in server mode, the server process (to stop, kill or restart it); None otherwise.
        started_at: when the block began (to tell this block's runs on a server shared by others).
    """

    home: Path
    database_url: str
    api_url: str | None = None
    server: HeadwaterServer | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def server_process(self) -> subprocess.Popen[bytes] | None:
        """In server mode, the server's process while it runs."""
        return None if self.server is None else self.server.process

    def flush(self) -> None:
        """Write everything recorded so far (flows flush when they finish; use this for stray logs)."""
        from headwater.engine.recorder import get_recorder

        get_recorder().flush()


def _close_shared_connections() -> None:
    from headwater._wiring import close_shared
    from headwater.engine.portal import get_portal

    get_portal().call(close_shared())


@contextmanager
def headwater_test_harness(
    *, server: bool | HeadwaterServer = False, server_env: Mapping[str, str] | None = None, **settings: Any
) -> Iterator[Harness]:
    """Run the block against a fresh, temporary store; extra keyword arguments override settings
    (e.g. `record_flush_interval_seconds=0.01`).

    Args:
        server: also run a real server process over the store and record through its API
            (`HEADWATER_API_URL` is set for this process and the ones it starts); or a running
            `HeadwaterServer` to record through instead (shared between tests, not stopped here).
        server_env: in server mode, extra environment variables for the server process
            (e.g. `{"HEADWATER_CRASH_DETECTION_GRACE_SECONDS": "2"}`).
        settings: setting overrides for this process, by field name.
    """
    home = Path(tempfile.mkdtemp(prefix="headwater-test-"))
    database_url = f"sqlite+aiosqlite:///{home / 'headwater.db'}"
    saved_env = {k: os.environ.get(k) for k in _ENV_KEYS}
    os.environ["HEADWATER_HOME"] = str(home)  # for processes started inside the block
    os.environ.pop("HEADWATER_API_URL", None)
    os.environ.pop("HEADWATER_DATABASE_URL", None)
    process: HeadwaterServer | None = None
    try:
        reset_recorder()
        api_url: str | None = None
        if isinstance(server, HeadwaterServer):
            api_url = server.api_url
            os.environ["HEADWATER_API_URL"] = api_url
        elif server:
            process = HeadwaterServer(home, database_url, env=server_env).start()
            api_url = process.api_url
            os.environ["HEADWATER_API_URL"] = api_url
        with temporary_settings(home=home, api_url=api_url, database_url=None, **settings):
            try:
                shared = server if isinstance(server, HeadwaterServer) else process
                yield Harness(home, database_url, api_url=api_url, server=shared)
            finally:
                reset_recorder()  # flushes to the server while it still runs
                _close_shared_connections()
    finally:
        if process is not None:
            process.stop()
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(home, ignore_errors=True)
