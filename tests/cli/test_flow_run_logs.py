"""`headwater flow-run logs`: every line in order, with its level and task run, emoji intact; paging."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sample_store import Cli, SampleRuns

from headwater._wiring import call
from headwater.schemas.actions import FlowRunCreate, LogCreate
from headwater.schemas.filters import LogFilter
from headwater.testing.utilities import Harness


def _message_lines(out: str) -> list[str]:
    """Each printed line's `source - message` part."""
    return [line.split(" | ", 2)[2] for line in out.splitlines() if line.count(" | ") >= 2]


def test_prints_every_line_in_order_with_level_and_task_run(cli: Cli, sample: SampleRuns) -> None:
    run = call(lambda o: o.read_flow_run(sample.etl[0]))

    result = cli("flow-run", "logs", str(run.id))

    assert result.exit_code == 0, result.output
    lines = _message_lines(result.stdout)
    assert lines[:4] == [
        f"Flow run '{run.name}' - Beginning flow run '{run.name}' for flow 'etl'",
        f"Flow run '{run.name}' - starting 🌊 crm",
        "Task run 'extract-0' - extracted 🚀 10 rows from crm",
        "Task run 'load-0' - loaded ✅ 10 rows — naïve café",
    ]
    assert lines[-1].startswith(f"Flow run '{run.name}' - Finished in state Completed")
    levels = [line.split(" | ")[1].strip() for line in result.stdout.splitlines()]
    assert levels[:4] == ["INFO", "INFO", "INFO", "WARNING"]


def test_head_tail_and_level(cli: Cli, sample: SampleRuns) -> None:
    run_id = str(sample.etl[0])
    every = _message_lines(cli("flow-run", "logs", run_id).stdout)

    assert _message_lines(cli("flow-run", "logs", run_id, "--head", "2").stdout) == every[:2]
    assert _message_lines(cli("flow-run", "logs", run_id, "--tail", "2").stdout) == every[-2:]
    assert _message_lines(cli("flow-run", "logs", run_id, "--tail", "1000").stdout) == every
    warnings = _message_lines(cli("flow-run", "logs", run_id, "--level", "warning").stdout)
    assert warnings == ["Task run 'load-0' - loaded ✅ 10 rows — naïve café"]


def test_level_and_head_tail_mistakes_are_usage_errors(cli: Cli, sample: SampleRuns) -> None:
    bad_level = cli("flow-run", "logs", str(sample.failing), "--level", "loud")
    assert bad_level.exit_code == 2
    assert "'loud' is not a log level" in bad_level.stderr and "WARNING" in bad_level.stderr

    both = cli("flow-run", "logs", str(sample.failing), "--head", "1", "--tail", "1")
    assert both.exit_code == 2
    assert "not both" in both.stderr


def test_json_output_is_the_lines_as_the_api_returns_them(cli: Cli, sample: SampleRuns) -> None:
    result = cli("flow-run", "logs", str(sample.failing), "-o", "json")

    assert result.exit_code == 0, result.output
    stored = call(lambda o: o.read_logs(LogFilter(flow_run_id=[sample.failing])))
    assert json.loads(result.stdout) == [line.model_dump(mode="json") for line in stored]
    assert any("kaboom 💥" in line.message for line in stored)


def test_unknown_and_malformed_ids(cli: Cli, sample: SampleRuns) -> None:
    unknown = uuid4()
    result = cli("flow-run", "logs", str(unknown))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"No flow run with id {unknown}"

    result = cli("flow-run", "logs", "12345")
    assert result.exit_code == 1
    assert "'12345' is not a valid flow run id" in result.stderr


def test_pages_through_more_lines_than_one_page(cli: Cli, harness: Harness) -> None:
    """25,000 lines: more than two pages of the largest page a `LogFilter` allows."""
    count = 25_000
    run_id = _flow_run_with_many_lines(count)

    result = cli("flow-run", "logs", run_id, "-o", "json")

    assert result.exit_code == 0, result.output
    assert [line["message"] for line in json.loads(result.stdout)] == [f"line {i} 🌊" for i in range(count)]
    tail = _message_lines(cli("flow-run", "logs", run_id, "--tail", "3").stdout)
    assert [line.rsplit(" - ", 1)[1] for line in tail] == [f"line {i} 🌊" for i in range(count - 3, count)]
    head = _message_lines(cli("flow-run", "logs", run_id, "--head", "10001").stdout)
    assert len(head) == 10_001 and head[-1].endswith("line 10000 🌊")


def test_emoji_survive_a_pipe_whatever_the_locale_encoding(sample: SampleRuns) -> None:
    env = {**os.environ, "HEADWATER_HOME": str(sample.harness.home), "PYTHONIOENCODING": "ascii"}
    completed = subprocess.run(
        [sys.executable, "-m", "headwater.cli", "flow-run", "logs", str(sample.etl[2])],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    out = completed.stdout.decode("utf-8")
    assert "extracted 🚀 30 rows from ads" in out and "loaded ✅ 30 rows — naïve café" in out


def _flow_run_with_many_lines(count: int) -> str:
    run = call(lambda o: o.create_flow_run(FlowRunCreate(name="chatty-run", flow_name="chatty")))
    start = datetime.now(UTC)
    lines = [
        LogCreate(
            name="bulk",
            level=20,
            message=f"line {i} 🌊",
            timestamp=start + timedelta(microseconds=i),
            flow_run_id=run.id,
        )
        for i in range(count)
    ]
    for offset in range(0, count, 5000):
        batch = lines[offset : offset + 5000]
        call(lambda o: o.create_logs(batch))  # noqa: B023 - awaited before the next batch
    return str(run.id)
