"""`headwater deployment …`, `flow-run cancel | retry`, and why `flow-run inspect` says a run waits.

Most tests use an embedded store; the ones that need a worker run a real server and a worker process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sample_store import Cli

from headwater._wiring import call
from headwater.core.states import StateType
from headwater.schemas.deployments import Deployment, DeploymentCreate, DeploymentFlowRunCreate
from headwater.schemas.objects import FlowRun
from headwater.testing.utilities import Harness, headwater_test_harness

FLOWS = textwrap.dedent(
    """
    from headwater import flow


    @flow(name="etl")
    def etl(source: str = "s3", rows: int = 10) -> int:
        print(f"loading {rows} rows from {source}")
        return rows


    @flow(name="broken")
    def broken() -> None:
        raise ValueError("boom")
    """
)

SCHEMAS: dict[str, dict[str, Any]] = {
    "etl": {"type": "object", "properties": {"source": {"type": "string"}, "rows": {"type": "integer"}}},
    "broken": {"type": "object", "properties": {}},
}


def deploy(folder: Path, flow_name: str = "etl", name: str = "nightly", pool: str = "local") -> Deployment:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flows.py").write_text(FLOWS)
    create = DeploymentCreate(
        name=name,
        flow_name=flow_name,
        entrypoint=f"flows.py:{flow_name}",
        path=str(folder),
        parameters={"source": "s3"} if flow_name == "etl" else {},
        parameter_openapi_schema=SCHEMAS[flow_name],
        work_pool_name=pool,
        tags=["nightly"],
    )
    return call(lambda o: o.apply_deployment(create)).deployment


def read_run(run_id: UUID) -> FlowRun:
    return call(lambda o: o.read_flow_run(run_id))


def one_line_error(result: Any) -> str:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return str(lines[0])


# -- embedded store ---------------------------------------------------------------------------------
def test_ls_and_inspect(cli: Cli, harness: Harness, tmp_path: Path) -> None:
    deployment = deploy(tmp_path)

    listed = json.loads(cli("deployment", "ls", "-o", "json").stdout)
    assert [(d["flow_name"], d["name"], d["id"]) for d in listed] == [("etl", "nightly", str(deployment.id))]
    table = cli("deployment", "ls").stdout
    assert "etl/nightly" in table and "local" in table and "active" in table
    assert json.loads(cli("deployment", "ls", "--pool", "elsewhere", "-o", "json").stdout) == []

    inspected = json.loads(cli("deployment", "inspect", "etl/nightly", "-o", "json").stdout)
    assert inspected["entrypoint"] == "flows.py:etl" and inspected["parameters"] == {"source": "s3"}
    assert json.loads(cli("deployment", "inspect", str(deployment.id), "-o", "json").stdout)["name"] == "nightly"
    shown = cli("deployment", "inspect", "etl/nightly").stdout
    assert "flows.py:etl" in shown and "source, rows" in shown


def test_run_creates_a_run_with_parameters_read_as_json_or_strings(cli: Cli, harness: Harness, tmp_path: Path) -> None:
    deploy(tmp_path)

    result = cli(
        "deployment", "run", "etl/nightly", "--params", '{"rows": 1, "source": "x"}', "-p", "rows=5", "-o", "json"
    )

    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)  # only JSON on stdout
    assert run["parameters"] == {"source": "x", "rows": 5}
    assert run["state_type"] == "SCHEDULED"
    assert "Created flow run" in result.stderr
    assert "It will wait: No worker has polled work pool 'local'" in result.stderr

    as_string = json.loads(cli("deployment", "run", "etl/nightly", "-p", "source=db01", "-o", "json").stdout)
    assert as_string["parameters"] == {"source": "db01"}
    # `source` is declared a string: `1.10` stays the text typed, not the number 1.1.
    typed = json.loads(cli("deployment", "run", "etl/nightly", "-p", "source=1.10", "-o", "json").stdout)
    assert typed["parameters"] == {"source": "1.10"}


def test_run_later_with_start_in(cli: Cli, harness: Harness, tmp_path: Path) -> None:
    deploy(tmp_path)

    result = cli("deployment", "run", "etl/nightly", "--start-in", "3600")

    assert result.exit_code == 0, result.output
    assert "It is not due yet" in result.stderr
    run = read_run(UUID(result.stdout.split("(")[1].split(")")[0]))
    assert run.expected_start_time is not None
    assert run.expected_start_time.timestamp() > time.time() + 3500


def test_bad_names_and_parameters_are_one_line_errors(cli: Cli, harness: Harness, tmp_path: Path) -> None:
    deploy(tmp_path)
    deploy(tmp_path, name="hourly")

    unknown = one_line_error(cli("deployment", "run", "etl/weekly"))
    assert "weekly" in unknown and "nightly" in unknown and "hourly" in unknown
    assert "nosuchflow" in one_line_error(cli("deployment", "inspect", "nosuchflow/x"))
    assert "flow-name/deployment-name" in one_line_error(cli("deployment", "inspect", "just-a-name"))
    assert "rows" in one_line_error(cli("deployment", "run", "etl/nightly", "-p", 'rows="many"'))
    assert "color" in one_line_error(cli("deployment", "run", "etl/nightly", "-p", "color=red"))
    assert cli("deployment", "run", "etl/nightly", "-p", "novalue").exit_code == 2
    assert cli("deployment", "run", "etl/nightly", "--params", "[1]").exit_code == 2
    assert json.loads(cli("flow-run", "ls", "-o", "json").stdout) == []  # nothing was created


def test_pause_resume_and_delete(cli: Cli, harness: Harness, tmp_path: Path) -> None:
    deploy(tmp_path)

    assert cli("deployment", "pause", "etl/nightly").stdout.strip() == "Paused deployment 'etl/nightly'."
    assert json.loads(cli("deployment", "inspect", "etl/nightly", "-o", "json").stdout)["paused"] is True
    assert "paused" in cli("deployment", "ls").stdout
    resumed = cli("deployment", "resume", "etl/nightly", "-o", "json")
    assert json.loads(resumed.stdout)["paused"] is False

    assert cli("deployment", "delete", "etl/nightly").exit_code == 1  # no confirmation
    deleted = cli("deployment", "delete", "etl/nightly", "--yes")
    assert deleted.exit_code == 0 and "Deleted deployment 'etl/nightly'." in deleted.stdout
    assert json.loads(cli("deployment", "ls", "-o", "json").stdout) == []


def test_inspect_says_why_a_run_waits(cli: Cli, harness: Harness, tmp_path: Path) -> None:
    deployment = deploy(tmp_path)
    run = call(lambda o: o.create_flow_run_from_deployment(deployment.id, DeploymentFlowRunCreate()))

    def reason() -> str:
        shown = json.loads(cli("flow-run", "inspect", str(run.id), "-o", "json").stdout)
        return str(shown["waiting_reason"]).lower()

    assert "no worker has polled work pool 'local'" in reason()
    assert "Why waiting" in cli("flow-run", "inspect", str(run.id)).stdout
    cli("work-pool", "pause", "local")
    assert "work pool 'local' is paused (`headwater work-pool resume local`)" in reason()
    cli("deployment", "pause", "etl/nightly")
    assert "deployment 'etl/nightly' is paused" in reason()


def test_cancel_and_retry_refusals(cli: Cli, harness: Harness, tmp_path: Path) -> None:
    deployment = deploy(tmp_path)
    run = call(lambda o: o.create_flow_run_from_deployment(deployment.id, DeploymentFlowRunCreate()))

    assert "only a finished run" in one_line_error(cli("flow-run", "retry", str(run.id)))
    cancelled = cli("flow-run", "cancel", str(run.id))
    assert cancelled.exit_code == 0 and f"Cancelled flow run '{run.name}' (it was Scheduled)." in cancelled.stdout
    assert read_run(run.id).state_type is StateType.CANCELLED
    assert "already finished" in one_line_error(cli("flow-run", "cancel", str(run.id)))

    retried = cli("flow-run", "retry", str(run.id), "-o", "json")
    assert retried.exit_code == 0, retried.output
    assert (json.loads(retried.stdout)["state_type"], json.loads(retried.stdout)["state_name"]) == (
        "SCHEDULED",
        "AwaitingRetry",
    )

    from headwater.schemas.actions import FlowRunCreate

    local = call(lambda o: o.create_flow_run(FlowRunCreate(flow_name="adhoc", name="adhoc-run")))
    call(lambda o: o.set_flow_run_state(local.id, _completed()))
    assert "not created from a deployment" in one_line_error(cli("flow-run", "retry", str(local.id)))


def _completed() -> Any:
    from headwater.schemas.states import StateCreate

    return StateCreate(type=StateType.COMPLETED)


# -- with a server and a worker ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def served() -> Iterator[Harness]:
    with headwater_test_harness(server=True) as harness:
        yield harness


@contextmanager
def worker(pool: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "headwater.cli", "worker", "start", "--pool", pool, "--shutdown-grace", "1"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 45
        while "started: polling work pool" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        process.wait(45)


@pytest.mark.slow
def test_run_watch_follows_the_run_to_its_end(cli: Cli, served: Harness, tmp_path: Path) -> None:
    deploy(tmp_path / "a", pool="watched")
    deploy(tmp_path / "b", flow_name="broken", name="once", pool="watched")

    with worker("watched", tmp_path / "worker.log"):
        completed = cli("deployment", "run", "etl/nightly", "-p", "rows=7", "--watch")
        failed = cli("deployment", "run", "broken/once", "--watch", "-o", "json")

    assert completed.exit_code == 0, completed.output
    lines = completed.stdout.strip().splitlines()
    assert lines[0].startswith("Created flow run") and "Completed" in lines[-1], completed.stdout
    assert failed.exit_code == 1, failed.output
    assert json.loads(failed.stdout)["state_type"] == "FAILED"


@pytest.mark.slow
def test_a_retried_run_is_picked_up_again(cli: Cli, served: Harness, tmp_path: Path) -> None:
    deployment = deploy(tmp_path, pool="retried")
    run = call(lambda o: o.create_flow_run_from_deployment(deployment.id, DeploymentFlowRunCreate()))
    assert cli("flow-run", "cancel", str(run.id)).exit_code == 0
    assert cli("flow-run", "retry", str(run.id)).exit_code == 0

    with worker("retried", tmp_path / "worker.log"):
        deadline = time.monotonic() + 60
        while read_run(run.id).state_type is not StateType.COMPLETED:
            assert time.monotonic() < deadline, read_run(run.id).state
            time.sleep(0.05)


@pytest.mark.slow
def test_errors_read_the_same_over_http(cli: Cli, served: Harness, tmp_path: Path) -> None:
    deploy(tmp_path, pool="errors")

    assert "nightly" in one_line_error(cli("deployment", "run", "etl/weekly"))
    assert "rows" in one_line_error(cli("deployment", "run", "etl/nightly", "-p", 'rows="many"'))
    assert "nope" in one_line_error(cli("work-pool", "inspect", "nope"))
