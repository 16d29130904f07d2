"""`headwater flow-run inspect`: the run, its state history, its task runs and its subflow runs."""

from __future__ import annotations

import json
from uuid import UUID, uuid4

from sample_store import Cli, SampleRuns

from headwater._wiring import call
from headwater.schemas.actions import FlowRunCreate
from headwater.schemas.filters import TaskRunFilter
from headwater.testing.utilities import Harness


def test_shows_parameters_tags_state_and_times(cli: Cli, sample: SampleRuns) -> None:
    run = call(lambda o: o.read_flow_run(sample.etl[1]))

    result = cli("flow-run", "inspect", str(run.id))

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert str(run.id) in out and run.name in out and "etl" in out
    assert '{"source": "shop", "rows": 20}' in out
    assert "nightly, sales" in out
    for label in ("State", "Start time", "End time", "Duration", "Run count"):
        assert label in out
    assert "Parent flow run" not in out


def test_shows_the_state_history_in_order(cli: Cli, sample: SampleRuns) -> None:
    out = cli("flow-run", "inspect", str(sample.etl[0])).stdout

    history = out[out.index("State history") : out.index("Task runs")]
    positions = [history.index(state_type) for state_type in ("PENDING", "RUNNING", "COMPLETED")]
    assert positions == sorted(positions)


def test_shows_task_runs_with_their_state(cli: Cli, sample: SampleRuns) -> None:
    out = cli("flow-run", "inspect", str(sample.failing)).stdout

    task_runs = out[out.index("Task runs") :]
    assert "explode-0" in task_runs and "Failed" in task_runs
    assert "kaboom 💥" in out  # the failed state's message
    assert "Subflow runs: none" in out


def test_shows_subflow_runs_and_the_task_runs_standing_for_them(cli: Cli, sample: SampleRuns) -> None:
    out = cli("flow-run", "inspect", str(sample.parent)).stdout

    task_runs = out[out.index("Task runs") : out.index("Subflow runs")]
    assert "prepare-0" in task_runs
    child_rows = [line for line in task_runs.splitlines() if "child-" in line]
    assert len(child_rows) == 2
    for child_id, row in zip(sample.children, child_rows, strict=True):
        assert str(child_id) in row
    subflow_runs = out[out.index("Subflow runs") :]
    assert [line for line in subflow_runs.splitlines() if "child" in line and "Completed" in line] == [
        line for line in subflow_runs.splitlines() if any(str(c) in line for c in sample.children)
    ]
    assert all(str(child_id) in subflow_runs for child_id in sample.children)


def test_a_subflow_run_names_its_parent(cli: Cli, sample: SampleRuns) -> None:
    out = cli("flow-run", "inspect", str(sample.children[0])).stdout

    parent_line = next(line for line in out.splitlines() if line.startswith("Parent flow run"))
    assert str(sample.parent) in parent_line


def test_json_output_holds_everything(cli: Cli, sample: SampleRuns) -> None:
    result = cli("flow-run", "inspect", str(sample.parent), "--output", "json")

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert set(shown) == {"flow_run", "state_history", "task_runs", "subflow_runs", "waiting_reason"}
    stored = call(lambda o: o.read_flow_run(sample.parent))
    assert shown["flow_run"] == stored.model_dump(mode="json")
    assert [state["type"] for state in shown["state_history"]] == ["PENDING", "RUNNING", "COMPLETED"]
    task_runs = call(lambda o: o.read_task_runs(TaskRunFilter(flow_run_id=[sample.parent])))
    assert shown["task_runs"] == [task_run.model_dump(mode="json") for task_run in task_runs]
    assert [t["child_flow_run_id"] for t in shown["task_runs"] if t["child_flow_run_id"]] == [
        str(child_id) for child_id in sample.children
    ]
    assert [UUID(run["id"]) for run in shown["subflow_runs"]] == sample.children
    assert all(run["parent_flow_run_id"] == str(sample.parent) for run in shown["subflow_runs"])


def test_an_unknown_id_is_one_clear_line(cli: Cli, sample: SampleRuns) -> None:
    unknown = uuid4()
    for output in ("table", "json"):
        result = cli("flow-run", "inspect", str(unknown), "-o", output)

        assert result.exit_code == 1
        assert result.stderr.strip() == f"No flow run with id {unknown}"
        assert result.stdout == ""


def test_a_malformed_id_is_one_clear_line(cli: Cli, sample: SampleRuns) -> None:
    result = cli("flow-run", "inspect", "not-a-uuid")

    assert result.exit_code == 1
    assert "'not-a-uuid' is not a valid flow run id" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_names_and_parameters_are_printed_as_they_are(cli: Cli, harness: Harness) -> None:
    create = FlowRunCreate(name="[red]not red[/red]", flow_name="markup", parameters={"tag": "[bold]x[/]"})
    run = call(lambda o: o.create_flow_run(create))

    out = cli("flow-run", "inspect", str(run.id)).stdout

    assert "[red]not red[/red]" in out and '{"tag": "[bold]x[/]"}' in out
    assert "[red]not red[/red]" in cli("flow-run", "ls").stdout
