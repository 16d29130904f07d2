"""Each program in `examples/` runs as a user would run it, exits cleanly and leaves its runs recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytestmark = pytest.mark.slow


def test_monoflow_retries_the_flaky_extract_and_caches_the_rates(run_program, store) -> None:
    result = run_program(EXAMPLES / "monoflow.py")

    assert result.returncode == 0, result.stderr
    assert "The rates endpoint was called 1 time(s) for 2 runs" in result.stdout
    runs = store.flow_runs("daily-sales")
    assert [run["state_type"] for run in runs] == ["COMPLETED", "COMPLETED"]
    for run in runs:
        tasks = {task["name"].rsplit("-", 1)[0]: task for task in store.task_runs(run["id"])}
        assert set(tasks) == {"extract_orders", "fetch_rates", "transform", "load"}
        assert all(task["state_type"] == "COMPLETED" for task in tasks.values())
        assert tasks["extract_orders"]["run_count"] == 2  # the first attempt met a 503
        messages = store.log_messages(run["id"])
        assert any(m.startswith("Attempt 1 failed") and "503" in m for m in messages)
        assert any("paid orders, revenue" in m for m in messages)
    first, second = ({t["name"]: t for t in store.task_runs(run["id"])}["fetch_rates-0"] for run in runs)
    assert (first["state_name"], second["state_name"]) == ("Completed", "Cached")


def test_subflows_records_each_child_under_its_parent(run_program, store) -> None:
    result = run_program(EXAMPLES / "subflows.py")

    assert result.returncode == 0, result.stderr
    (parent,) = store.flow_runs("quarterly-report")
    assert parent["state_type"] == "COMPLETED"
    regions = store.flow_runs("region-sales")
    children = [*regions, *store.flow_runs("flag-outliers")]
    assert len(regions) == 4
    assert all(c["state_type"] == "COMPLETED" and c["parent_flow_run_id"] == parent["id"] for c in children)
    calls = store.task_runs(parent["id"])  # the task runs standing for the subflow calls
    assert {call["child_flow_run_id"] for call in calls} == {child["id"] for child in children}
    for region in regions:  # each region's receipts were mapped: one COMPLETED task run per receipt
        parsed = store.task_runs(region["id"])
        assert len(parsed) >= 8
        assert all(t["name"].startswith("parse_receipt-") and t["state_type"] == "COMPLETED" for t in parsed)
    printed = store.log_messages(parent["id"])  # log_prints=True: the parent's prints are its log lines
    assert "Sales report for 2024-Q2:" in printed
    assert any(line.startswith("Total: ") and line.endswith("across 4 regions") for line in printed)


def test_concurrency_runs_threads_async_and_processes(run_program, store) -> None:
    result = run_program(EXAMPLES / "concurrency.py")

    assert result.returncode == 0, result.stderr
    assert "crawl: 52 words on 8 pages" in result.stdout
    assert "count_primes_below: 9592 primes below 100,000" in result.stdout
    expected_task_runs = {"crawl": 8 + 8 + 1, "check-hosts": 4, "count-primes-below": 4}
    for flow_name, count in expected_task_runs.items():
        (run,) = store.flow_runs(flow_name)
        assert run["state_type"] == "COMPLETED"
        tasks = store.task_runs(run["id"])  # including those run in worker processes and on the event loop
        assert len(tasks) == count
        assert all(t["state_type"] == "COMPLETED" for t in tasks)
