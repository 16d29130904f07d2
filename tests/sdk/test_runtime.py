"""`headwater.runtime`: facts about the flow run and task run executing here; empty outside of runs."""

from __future__ import annotations

from typing import Any

import pytest
from sdk_support import Records

from headwater import flow, task
from headwater.context import get_run_context, tags
from headwater.exceptions import MissingContextError
from headwater.runtime import flow_run, task_run


def test_flow_run_facts_inside_a_flow(records: Records) -> None:
    @flow(name="facts", tags=["a"])
    def facts(x: int, y: str = "why") -> dict[str, Any]:
        return {
            "id": flow_run.id,
            "name": flow_run.name,
            "flow_name": flow_run.flow_name,
            "parameters": flow_run.parameters,
            "tags": flow_run.tags,
            "run_count": flow_run.run_count,
            "parent_flow_run_id": flow_run.parent_flow_run_id,
        }

    seen = facts(1)
    run = records.flow_run(seen["id"])
    assert seen["name"] == run.name
    assert seen["flow_name"] == "facts"
    assert seen["parameters"] == {"x": 1, "y": "why"}
    assert seen["tags"] == ["a"]
    assert seen["run_count"] == 1
    assert seen["parent_flow_run_id"] is None


def test_task_run_facts_inside_a_task(records: Records) -> None:
    @task(tags=["t"])
    def facts(a: int, b: int = 2) -> dict[str, Any]:
        return {
            "id": task_run.id,
            "name": task_run.name,
            "parameters": task_run.parameters,
            "tags": task_run.tags,
            "run_count": task_run.run_count,
            "flow_run_id": task_run.flow_run_id,
            "flow_run.id": flow_run.id,
        }

    @flow
    def pipeline() -> dict[str, Any]:
        return facts(1)

    seen = pipeline()
    stored = records.task_run(seen["id"])
    assert seen["name"] == stored.name == "facts-0"
    assert seen["parameters"] == {"a": 1, "b": 2}
    assert seen["tags"] == ["t"]
    assert seen["run_count"] == 1
    assert seen["flow_run_id"] == seen["flow_run.id"] == stored.flow_run_id


def test_task_run_task_name_like_prefect() -> None:
    @task(name="named task")
    def facts() -> object:
        return task_run.task_name

    @flow
    def pipeline() -> object:
        return facts()

    assert pipeline() == "named task"


def test_submitted_tasks_see_their_own_task_run() -> None:
    @task
    def own_id(i: int) -> object:
        return task_run.id

    @flow
    def pipeline() -> tuple[list[object], list[object]]:
        futures = own_id.map(range(3))
        return [f.result() for f in futures], [f.task_run_id for f in futures]

    seen, expected = pipeline()
    assert seen == expected


def test_outside_of_runs_the_facts_are_empty() -> None:
    assert flow_run.id is None and flow_run.name is None
    assert flow_run.parameters == {} and flow_run.tags == []
    assert task_run.id is None and task_run.parameters == {}

    @flow
    def pipeline() -> object:
        return task_run.id  # in a flow but not in a task

    assert pipeline() is None


def test_unknown_runtime_attribute_names_the_known_ones() -> None:
    with pytest.raises(AttributeError, match="parameters"):
        flow_run.not_a_fact  # noqa: B018


def test_tags_block_adds_tags_to_runs_started_inside(records: Records) -> None:
    @task
    def step() -> list[str]:
        return task_run.tags

    @flow(tags=["own"])
    def pipeline() -> tuple[object, list[str], list[str]]:
        with tags("inner"):
            inner_tags = step()
        return flow_run.id, flow_run.tags, inner_tags

    with tags("outer", "nightly"):
        run_id, flow_tags, task_tags = pipeline()
    assert flow_tags == ["nightly", "outer", "own"]
    assert sorted(records.flow_run(run_id).tags) == ["nightly", "outer", "own"]
    assert sorted(task_tags) == ["inner", "nightly", "outer"]
    (tr,) = records.task_runs(run_id)
    assert sorted(tr.tags) == ["inner", "nightly", "outer"]


def test_get_run_context_inside_and_outside() -> None:
    @task
    def in_task() -> str:
        return type(get_run_context()).__name__

    @flow
    def pipeline() -> tuple[str, str]:
        return type(get_run_context()).__name__, in_task()

    assert pipeline() == ("FlowRunContext", "TaskRunContext")
    with pytest.raises(MissingContextError):
        get_run_context()


def test_run_count_grows_with_retries() -> None:
    counts: list[tuple[int, int]] = []

    @task(retries=1)
    def flaky() -> None:
        counts.append((flow_run.run_count, task_run.run_count))
        if task_run.run_count == 1:
            raise ConnectionError("first attempt")

    @flow
    def pipeline() -> None:
        flaky()

    pipeline()
    assert counts == [(1, 1), (1, 2)]
