"""Persisted results: `persist_result`, `result_storage` (a folder or an fsspec URL) and
`result_serializer` ("pickle" or "json"). A persisted result can be read back from the recorded state."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import fsspec
import pytest
from sdk_support import Records

from headwater import flow, task
from headwater.core.states import StateType
from headwater.results import load_result_ref
from headwater.runtime import flow_run
from headwater.testing.utilities import Harness


def _only_task_run_ref(records: Records, flow_run_id: Any) -> dict[str, Any]:
    (tr,) = records.task_runs(flow_run_id)
    assert tr.state is not None and tr.state.data is not None, "no result reference was recorded"
    return tr.state.data


def test_persisted_task_result_can_be_read_back_from_the_store(tmp_path: Path, records: Records) -> None:
    @task(persist_result=True, result_storage=str(tmp_path))
    def produce() -> dict[str, list[int]]:
        return {"rows": [1, 2, 3]}

    @flow
    def pipeline() -> object:
        produce()
        return flow_run.id

    ref = _only_task_run_ref(records, pipeline())
    assert load_result_ref(ref) == {"rows": [1, 2, 3]}
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 1


def test_unpersisted_result_is_not_written(tmp_path: Path, records: Records) -> None:
    @task(persist_result=False, result_storage=str(tmp_path))
    def produce() -> int:
        return 1

    @flow
    def pipeline() -> object:
        produce()
        return flow_run.id

    (tr,) = records.task_runs(pipeline())
    assert tr.state is not None and tr.state.data is None
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []


def test_default_storage_is_under_the_headwater_home(harness: Harness, records: Records) -> None:
    @task(persist_result=True)
    def produce() -> str:
        return "kept"

    @flow
    def pipeline() -> object:
        produce()
        return flow_run.id

    ref = _only_task_run_ref(records, pipeline())
    assert Path(ref["storage"]).resolve().is_relative_to(harness.home.resolve())
    assert load_result_ref(ref) == "kept"


def test_json_serializer_writes_json(tmp_path: Path, records: Records) -> None:
    @task(persist_result=True, result_storage=str(tmp_path), result_serializer="json")
    def produce() -> dict[str, Any]:
        return {"a": 1, "b": [True, None]}

    @flow
    def pipeline() -> object:
        produce()
        return flow_run.id

    ref = _only_task_run_ref(records, pipeline())
    assert ref["serializer"] == "json"
    (record,) = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    # The record is readable as text and holds the value as JSON.
    text = record.read_text()
    assert json.loads(text.splitlines()[-1]) == {"a": 1, "b": [True, None]}
    assert load_result_ref(ref) == {"a": 1, "b": [True, None]}


def test_json_serializer_fails_the_run_for_a_value_json_cannot_hold(tmp_path: Path, records: Records) -> None:
    @task(persist_result=True, result_storage=str(tmp_path), result_serializer="json")
    def produce() -> object:
        return {1, 2}  # a set

    @flow
    def pipeline() -> object:
        state = produce(return_state=True)
        assert state.is_failed()
        return state.message

    message = pipeline()
    assert "json" in message.lower() and "serializ" in message.lower()


def test_pickle_serializer_keeps_any_python_value(tmp_path: Path, records: Records) -> None:
    @task(persist_result=True, result_storage=str(tmp_path), result_serializer="pickle")
    def produce() -> object:
        return {"when": date(2024, 1, 2), "ids": {1, 2}}

    @flow
    def pipeline() -> object:
        produce()
        return flow_run.id

    ref = _only_task_run_ref(records, pipeline())
    assert load_result_ref(ref) == {"when": date(2024, 1, 2), "ids": {1, 2}}


def test_unknown_serializer_is_refused_naming_the_choices() -> None:
    @task(persist_result=True, result_serializer="yaml")
    def produce() -> int:
        return 1

    @flow
    def pipeline() -> str:
        return produce(return_state=True).message or ""

    message = pipeline()
    assert "yaml" in message and "json" in message and "pickle" in message


def test_memory_url_storage(records: Records) -> None:
    folder = f"memory://headwater-test-{uuid4().hex}"

    @task(persist_result=True, result_storage=folder)
    def produce() -> list[str]:
        return ["in", "memory"]

    @flow
    def pipeline() -> object:
        produce()
        return flow_run.id

    ref = _only_task_run_ref(records, pipeline())
    assert ref["storage"] == folder
    fs = fsspec.filesystem("memory")
    assert len(fs.ls(folder.removeprefix("memory://"))) == 1
    assert load_result_ref(ref) == ["in", "memory"]


def test_file_url_storage(tmp_path: Path, records: Records) -> None:
    @task(persist_result=True, result_storage=f"file://{tmp_path}/results")
    def produce() -> int:
        return 42

    @flow
    def pipeline() -> object:
        produce()
        return flow_run.id

    ref = _only_task_run_ref(records, pipeline())
    assert len(list((tmp_path / "results").iterdir())) == 1
    assert load_result_ref(ref) == 42


def test_flow_persist_result_records_the_flows_result(tmp_path: Path, records: Records) -> None:
    @flow(persist_result=True, result_storage=str(tmp_path))
    def pipeline() -> dict[str, int]:
        return {"total": 6}

    state = pipeline(return_state=True)
    run = records.only_flow_run(flow_name=["pipeline"])
    assert run.state is not None and run.state.data is not None
    assert load_result_ref(run.state.data) == {"total": 6}
    assert state.result() == {"total": 6}


def test_flow_result_storage_is_used_by_its_persisting_tasks(tmp_path: Path, records: Records) -> None:
    @task(persist_result=True)
    def produce() -> str:
        return "in the flow's storage"

    @flow(result_storage=str(tmp_path), result_serializer="json")
    def pipeline() -> object:
        produce()
        return flow_run.id

    ref = _only_task_run_ref(records, pipeline())
    assert Path(ref["storage"]) == tmp_path and ref["serializer"] == "json"
    assert load_result_ref(ref) == "in the flow's storage"


def test_flow_persist_result_persists_its_tasks_results(tmp_path: Path, records: Records) -> None:
    @task
    def produce() -> int:
        return 7

    @flow(persist_result=True, result_storage=str(tmp_path))
    def pipeline() -> object:
        produce()
        return flow_run.id

    assert load_result_ref(_only_task_run_ref(records, pipeline())) == 7


def test_task_persist_result_false_overrides_the_flow(tmp_path: Path, records: Records) -> None:
    @task(persist_result=False)
    def produce() -> int:
        return 7

    @flow(persist_result=True, result_storage=str(tmp_path))
    def pipeline() -> object:
        produce()
        return flow_run.id

    (tr,) = records.task_runs(pipeline())
    assert tr.state is not None and tr.state.data is None


def test_failed_run_records_no_result(tmp_path: Path, records: Records) -> None:
    @task(persist_result=True, result_storage=str(tmp_path))
    def broken() -> None:
        raise ValueError("nothing to keep")

    @flow
    def pipeline() -> object:
        broken(return_state=True)
        return flow_run.id

    (tr,) = records.task_runs(pipeline())
    assert tr.state_type is StateType.FAILED
    assert tr.state is not None and tr.state.data is None
    assert not tmp_path.exists() or [p for p in tmp_path.iterdir() if not p.name.startswith(".")] == []


def test_missing_result_record_is_reported(tmp_path: Path, records: Records) -> None:
    from headwater.exceptions import MissingResult

    @task(persist_result=True, result_storage=str(tmp_path))
    def produce() -> int:
        return 1

    @flow
    def pipeline() -> object:
        produce()
        return flow_run.id

    ref = _only_task_run_ref(records, pipeline())
    for path in tmp_path.iterdir():
        path.unlink()
    with pytest.raises(MissingResult, match=ref["key"]):
        load_result_ref(ref)
