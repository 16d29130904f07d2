"""`headwater flow-run ls`: newest first, filtered by flow and state type, limited, as a table or JSON."""

from __future__ import annotations

import json
from uuid import UUID

from sample_store import Cli, SampleRuns

from headwater._wiring import call
from headwater.schemas.filters import FlowRunFilter


def _ids_in_order(output: str, ids: list[UUID]) -> list[UUID]:
    """The given ids that appear in the output, in the order they appear."""
    present = [run_id for run_id in ids if str(run_id) in output]
    return sorted(present, key=lambda run_id: output.index(str(run_id)))


def _all_ids(sample: SampleRuns) -> list[UUID]:
    return [*sample.etl, sample.failing, sample.parent, *sample.children]


def test_lists_every_run_newest_first_with_its_columns(cli: Cli, sample: SampleRuns) -> None:
    result = cli("flow-run", "ls")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert _ids_in_order(out, _all_ids(sample)) == [
        *reversed(sample.children),
        sample.parent,
        sample.failing,
        *reversed(sample.etl),
    ]
    for header in ("ID", "Flow", "Name", "State", "Start time", "Duration"):
        assert header in out
    assert "Completed" in out and "Failed" in out
    [failing_run] = call(lambda o: o.read_flow_runs(FlowRunFilter(id=[sample.failing])))
    failing_row = next(line for line in out.splitlines() if str(sample.failing) in line)
    assert "failing" in failing_row and failing_run.name in failing_row and "Failed" in failing_row


def test_filters_by_flow(cli: Cli, sample: SampleRuns) -> None:
    only_etl = cli("flow-run", "ls", "--flow", "etl").stdout
    assert _ids_in_order(only_etl, _all_ids(sample)) == list(reversed(sample.etl))

    two_flows = cli("flow-run", "ls", "-f", "etl", "-f", "failing").stdout
    assert _ids_in_order(two_flows, _all_ids(sample)) == [sample.failing, *reversed(sample.etl)]


def test_filters_by_state_type_in_any_case(cli: Cli, sample: SampleRuns) -> None:
    for spelling in ("failed", "FAILED", "Failed"):
        out = cli("flow-run", "ls", "--state", spelling).stdout
        assert _ids_in_order(out, _all_ids(sample)) == [sample.failing]

    completed_children = cli("flow-run", "ls", "-s", "completed", "-f", "child").stdout
    assert _ids_in_order(completed_children, _all_ids(sample)) == list(reversed(sample.children))


def test_a_wrong_state_type_names_the_valid_ones(cli: Cli, sample: SampleRuns) -> None:
    result = cli("flow-run", "ls", "--state", "done")

    assert result.exit_code == 2
    assert "'done' is not a state type" in result.stderr
    for valid in ("scheduled", "pending", "running", "completed", "failed", "cancelled", "crashed", "paused"):
        assert valid in result.stderr
    assert result.stdout == ""


def test_limit_keeps_the_newest_and_says_how_many_there_are(cli: Cli, sample: SampleRuns) -> None:
    result = cli("flow-run", "ls", "--limit", "2")

    assert result.exit_code == 0, result.output
    assert _ids_in_order(result.stdout, _all_ids(sample)) == list(reversed(sample.children))
    assert "Showing the newest 2 of 7 flow runs" in result.stdout


def test_no_match_says_so(cli: Cli, sample: SampleRuns) -> None:
    result = cli("flow-run", "ls", "--flow", "no-such-flow")

    assert result.exit_code == 0
    assert result.stdout.strip() == "No flow runs found."


def test_json_output_is_the_runs_as_the_api_returns_them(cli: Cli, sample: SampleRuns) -> None:
    result = cli("flow-run", "ls", "--flow", "etl", "--output", "json")

    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    stored = call(lambda o: o.read_flow_runs(FlowRunFilter(flow_name=["etl"])))
    assert listed == [run.model_dump(mode="json") for run in stored]
    assert [UUID(run["id"]) for run in listed] == list(reversed(sample.etl))
    assert listed[-1]["parameters"] == {"source": "crm", "rows": 10}
    assert listed[-1]["tags"] == ["nightly", "sales"]


def test_json_output_of_nothing_is_an_empty_list(cli: Cli, sample: SampleRuns) -> None:
    result = cli("flow-run", "ls", "-s", "crashed", "-o", "JSON")

    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
