"""`headwater work-pool …` and `headwater work-queue …`: create, list, inspect, pause, resume, delete, with
JSON output, and one-line errors for unknown or invalid names."""

from __future__ import annotations

import json

from sample_store import Cli

from headwater._wiring import call
from headwater.schemas.work_pools import WorkerHeartbeat
from headwater.testing.utilities import Harness


def test_create_then_list_and_inspect_a_pool(cli: Cli, harness: Harness) -> None:
    created = cli("work-pool", "create", "etl", "--concurrency-limit", "3", "--description", "nightly jobs")
    assert created.exit_code == 0, created.output
    assert "Created work pool 'etl' (process)" in created.stdout

    listed = cli("work-pool", "ls", "-o", "json")
    assert listed.exit_code == 0
    [pool] = json.loads(listed.stdout)
    assert (pool["name"], pool["type"], pool["concurrency_limit"], pool["description"]) == (
        "etl",
        "process",
        3,
        "nightly jobs",
    )
    table = cli("work-pool", "ls")
    assert "etl" in table.stdout and "NOT_READY" in table.stdout

    inspected = json.loads(cli("work-pool", "inspect", "etl", "-o", "json").stdout)
    assert inspected["work_pool"]["name"] == "etl"
    assert [queue["name"] for queue in inspected["work_queues"]] == ["default"]
    assert inspected["workers"] == []
    shown = cli("work-pool", "inspect", "etl")
    assert "Workers: none. Start one: headwater worker start --pool etl" in shown.stdout


def test_inspect_shows_the_workers_polling_the_pool(cli: Cli, harness: Harness) -> None:
    cli("work-pool", "create", "busy")
    call(lambda o: o.worker_heartbeat("busy", WorkerHeartbeat(name="w-1", heartbeat_interval_seconds=30)))

    inspected = json.loads(cli("work-pool", "inspect", "busy", "-o", "json").stdout)

    assert [(w["name"], w["status"]) for w in inspected["workers"]] == [("w-1", "ONLINE")]
    assert inspected["work_pool"]["status"] == "READY"
    assert "w-1" in cli("work-pool", "inspect", "busy").stdout


def test_pause_and_resume_a_pool(cli: Cli, harness: Harness) -> None:
    cli("work-pool", "create", "etl")

    paused = cli("work-pool", "pause", "etl")
    assert paused.exit_code == 0 and paused.stdout.strip() == "Paused work pool 'etl'."
    assert json.loads(cli("work-pool", "inspect", "etl", "-o", "json").stdout)["work_pool"]["paused"] is True
    assert "PAUSED" in cli("work-pool", "ls").stdout

    resumed = cli("work-pool", "resume", "etl", "-o", "json")
    assert resumed.exit_code == 0 and json.loads(resumed.stdout)["paused"] is False


def test_delete_a_pool(cli: Cli, harness: Harness) -> None:
    cli("work-pool", "create", "old")

    refused = cli("work-pool", "delete", "old")  # asks for confirmation; no answer aborts
    assert refused.exit_code == 1
    assert cli("work-pool", "inspect", "old").exit_code == 0

    deleted = cli("work-pool", "delete", "old", "--yes")
    assert deleted.exit_code == 0 and "Deleted work pool 'old'." in deleted.stdout
    assert json.loads(cli("work-pool", "ls", "-o", "json").stdout) == []


def test_unknown_duplicate_and_invalid_pools_are_one_line_errors(cli: Cli, harness: Harness) -> None:
    cli("work-pool", "create", "etl")
    for args in (
        ["work-pool", "inspect", "nope"],
        ["work-pool", "pause", "nope"],
        ["work-pool", "delete", "nope", "--yes"],
        ["work-pool", "create", "etl"],
        ["work-pool", "create", "a/b"],
        ["work-queue", "ls", "--pool", "nope"],
        ["work-queue", "create", "q", "--pool", "nope"],
    ):
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
    assert "nope" in cli("work-pool", "inspect", "nope").stderr
    assert "name" in cli("work-pool", "create", "a/b").stderr


def test_queues_of_a_pool(cli: Cli, harness: Harness) -> None:
    cli("work-pool", "create", "etl")

    created = cli("work-queue", "create", "urgent", "--pool", "etl", "--priority", "1", "--concurrency-limit", "2")
    assert created.exit_code == 0, created.output
    assert "Created work queue 'urgent' in work pool 'etl'." in created.stdout
    cli("work-queue", "create", "later", "--pool", "etl", "--priority", "5")

    queues = json.loads(cli("work-queue", "ls", "--pool", "etl", "-o", "json").stdout)
    by_name = {queue["name"]: queue for queue in queues}
    assert set(by_name) == {"default", "urgent", "later"}
    assert by_name["urgent"]["concurrency_limit"] == 2
    assert by_name["later"]["priority"] == 5

    paused = cli("work-queue", "pause", "later", "--pool", "etl", "-o", "json")
    assert paused.exit_code == 0 and json.loads(paused.stdout)["paused"] is True
    assert "later" in cli("work-queue", "ls", "--pool", "etl").stdout
