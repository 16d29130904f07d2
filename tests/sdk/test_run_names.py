"""Run names: `flow_run_name` and `task_run_name` as templates of the parameters, or callables."""

from __future__ import annotations

from datetime import date

import pytest
from sdk_support import Records

from headwater import flow, task
from headwater.runtime import flow_run, task_run


def test_flow_run_name_template(records: Records) -> None:
    @flow(flow_run_name="load-{table}-{day}")
    def load(table: str, day: date) -> str:
        return flow_run.name

    assert load("orders", date(2024, 5, 1)) == "load-orders-2024-05-01"
    assert records.only_flow_run(flow_name=["load"]).name == "load-orders-2024-05-01"


def test_flow_run_name_template_with_a_default(records: Records) -> None:
    @flow(flow_run_name="region-{region}")
    def regional(region: str = "eu") -> str:
        return flow_run.name

    assert regional() == "region-eu"


def test_flow_run_name_callable() -> None:
    @flow(flow_run_name=lambda: "from a callable")
    def named() -> str:
        return flow_run.name

    assert named() == "from a callable"


def test_flow_run_name_callable_reads_the_parameters_through_the_runtime() -> None:
    def generate() -> str:
        return f"{flow_run.flow_name}-with-{flow_run.parameters['name']}"

    @flow(flow_run_name=generate)
    def greet(name: str) -> str:
        return flow_run.name

    assert greet("marvin") == "greet-with-marvin"


def test_flow_run_name_naming_an_unknown_parameter_is_an_error() -> None:
    @flow(flow_run_name="run-{nope}")
    def pipeline(x: int) -> None:
        pass

    with pytest.raises(ValueError, match="nope"):
        pipeline(1)


def test_task_run_name_template(records: Records) -> None:
    @task(task_run_name="fetch-{source}-page-{page}")
    def fetch(source: str, page: int = 1) -> str:
        return task_run.name

    @flow
    def pipeline() -> list[str]:
        return [fetch("api"), fetch("api", page=2), *fetch.map("db", [3, 4]).result()]

    assert pipeline() == ["fetch-api-page-1", "fetch-api-page-2", "fetch-db-page-3", "fetch-db-page-4"]
    run = records.only_flow_run(flow_name=["pipeline"])
    assert sorted(t.name for t in records.task_runs(run.id)) == [
        "fetch-api-page-1", "fetch-api-page-2", "fetch-db-page-3", "fetch-db-page-4"
    ]


def test_task_run_name_callable_reads_the_runtime() -> None:
    def generate() -> str:
        return f"{task_run.task_name}-for-{task_run.parameters['who']}"

    @task(task_run_name=generate)
    def hello(who: str) -> str:
        return task_run.name

    @flow
    def pipeline() -> str:
        return hello("ada")

    assert pipeline() == "hello-for-ada"


def test_default_task_run_names_count_calls_per_task_within_a_flow_run() -> None:
    @task
    def step() -> str:
        return task_run.name

    @flow
    def pipeline() -> list[str]:
        return [step(), step.submit().result(), step()]

    assert pipeline() == ["step-0", "step-1", "step-2"]
    assert pipeline() == ["step-0", "step-1", "step-2"]  # each flow run counts afresh


def test_task_run_name_naming_an_unknown_parameter_fails_the_call() -> None:
    @task(task_run_name="x-{missing}")
    def step(x: int) -> None:
        pass

    @flow
    def pipeline() -> None:
        step(1)

    with pytest.raises(ValueError, match="missing"):
        pipeline()
