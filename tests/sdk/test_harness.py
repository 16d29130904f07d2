"""`headwater_test_harness()` and the `headwater_test_harness` pytest fixture: a throw-away store for
a block or a test, that flows, result storage and child processes all use, removed afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sdk_support import Records

from headwater import flow, task
from headwater._wiring import call
from headwater.core.states import StateType
from headwater.runtime import flow_run
from headwater.schemas.filters import FlowRunFilter
from headwater.settings import get_settings
from headwater.testing.utilities import Harness, headwater_test_harness


@flow
def recorded() -> object:
    return flow_run.id


def _flow_run_ids() -> set[object]:
    return {r.id for r in call(lambda o: o.read_flow_runs(FlowRunFilter()))}


def test_fixture_gives_a_harness_with_a_fresh_store(headwater_test_harness: Harness, records: Records) -> None:
    assert headwater_test_harness.home.is_dir()
    assert str(headwater_test_harness.home) in headwater_test_harness.database_url
    assert records.flow_runs() == []
    run_id = recorded()
    assert [r.id for r in records.flow_runs()] == [run_id]
    assert (headwater_test_harness.home / "headwater.db").is_file()


def test_each_test_starts_empty(records: Records) -> None:
    assert records.flow_runs() == []  # nothing left over from the test before
    recorded()


@pytest.mark.embedded_only  # it checks the embedded set-up itself
def test_harness_points_settings_and_environment_at_its_home(harness: Harness) -> None:
    settings = get_settings()
    assert settings.home == harness.home
    assert settings.api_url is None
    assert settings.resolved_database_url == harness.database_url
    assert os.environ["HEADWATER_HOME"] == str(harness.home)


@pytest.mark.embedded_only  # it checks the embedded set-up itself
def test_nested_harness_isolates_its_runs_and_restores_the_outer_one(harness: Harness) -> None:
    outer_run = recorded()
    with headwater_test_harness() as inner:
        assert inner.home != harness.home
        assert _flow_run_ids() == set()
        inner_run = recorded()
        assert _flow_run_ids() == {inner_run}
        inner_home = inner.home
    assert not inner_home.exists()  # removed at the end of the block
    assert os.environ["HEADWATER_HOME"] == str(harness.home)
    assert _flow_run_ids() == {outer_run}


def test_harness_accepts_setting_overrides() -> None:
    with headwater_test_harness(record_flush_interval_seconds=0.01):
        assert get_settings().record_flush_interval_seconds == 0.01
        assert recorded() in _flow_run_ids()


def test_harness_restores_the_environment_it_found(harness: Harness) -> None:
    os.environ["HEADWATER_API_URL"] = "http://127.0.0.1:1/api"
    try:
        with headwater_test_harness():
            assert "HEADWATER_API_URL" not in os.environ
            assert get_settings().api_url is None  # a configured server is never used by tests
            recorded()
        assert os.environ["HEADWATER_API_URL"] == "http://127.0.0.1:1/api"
    finally:
        del os.environ["HEADWATER_API_URL"]


def test_persisted_results_go_under_the_harness_home(harness: Harness) -> None:
    @task(persist_result=True)
    def kept() -> int:
        return 1

    @flow
    def pipeline() -> int:
        return kept()

    pipeline()
    storage = harness.home / "storage"
    assert storage.is_dir() and any(storage.iterdir())


def test_harness_flush_writes_stray_records(harness: Harness, records: Records) -> None:
    run_id = recorded()
    harness.flush()  # nothing pending: a no-op that must not fail
    assert records.flow_run(run_id).state_type is StateType.COMPLETED


def test_child_processes_record_into_the_same_store(harness: Harness, records: Records, tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(
        "from headwater import flow\n"
        "@flow(name='from-a-child-process')\n"
        "def child() -> int:\n"
        "    return 1\n"
        "child()\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    runs = records.flow_runs(flow_name=["from-a-child-process"])
    assert len(runs) == 1, done.stderr
    (run,) = runs
    assert run.state_type is StateType.COMPLETED
