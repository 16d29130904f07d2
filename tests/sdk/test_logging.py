"""Run logging: `get_run_logger()` in flows and tasks, `log_prints`, and what is recorded (order,
level, run ids, text intact)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sdk_support import Records

from headwater import flow, get_run_logger, task
from headwater.exceptions import MissingContextError
from headwater.runtime import flow_run, task_run


def _user_lines(records: Records, run_id: Any) -> list[Any]:
    """The lines user code logged (not the engine's own "Beginning …" / "Finished …" lines)."""
    return [
        log for log in records.logs(run_id)
        if not log.message.startswith(("Beginning flow run", "Finished in state"))
    ]


def test_flow_and_task_loggers_record_lines_with_their_run_ids(records: Records) -> None:
    @task
    def step() -> object:
        get_run_logger().info("in the task")
        return task_run.id

    @flow
    def pipeline() -> tuple[object, object]:
        get_run_logger().info("in the flow")
        return flow_run.id, step()

    run_id, task_run_id = pipeline()
    lines = _user_lines(records, run_id)
    assert [(log.message, log.task_run_id) for log in lines] == [("in the flow", None), ("in the task", task_run_id)]
    assert all(log.flow_run_id == run_id for log in lines)
    assert lines[0].name == "headwater.flow_runs" and lines[1].name == "headwater.task_runs"


def test_engine_lines_mark_the_beginning_and_end_of_a_flow_run(records: Records) -> None:
    @flow
    def pipeline() -> object:
        return flow_run.id

    messages = records.messages(pipeline())
    assert messages[0].startswith("Beginning flow run")
    assert messages[-1].startswith("Finished in state Completed")


def test_failed_task_logs_an_error_with_its_exception(records: Records) -> None:
    @task
    def broken() -> None:
        raise ValueError("bad value 17")

    @flow
    def pipeline() -> object:
        broken(return_state=True)
        with pytest.raises(ValueError):
            broken()
        return flow_run.id

    errors = records.logs(pipeline(), level_ge=logging.ERROR)
    assert any("bad value 17" in log.message and log.task_run_id is not None for log in errors)


def test_levels_are_recorded(records: Records) -> None:
    @flow
    def pipeline() -> object:
        logger = get_run_logger()
        logger.warning("careful")
        logger.error("wrong")
        logger.critical("very wrong")
        return flow_run.id

    run_id = pipeline()
    by_message = {log.message: log.level for log in records.logs(run_id)}
    assert by_message["careful"] == logging.WARNING
    assert by_message["wrong"] == logging.ERROR
    assert by_message["very wrong"] == logging.CRITICAL
    assert [log.message for log in records.logs(run_id, level_ge=logging.ERROR)] == ["wrong", "very wrong"]


def test_lines_keep_the_order_they_were_emitted_in(records: Records) -> None:
    @task
    def step(i: int) -> None:
        get_run_logger().info("task line %d", i)

    @flow
    def pipeline() -> object:
        logger = get_run_logger()
        for i in range(50):
            logger.info("flow line %d", i)
            step(i)
        return flow_run.id

    expected = [line for i in range(50) for line in (f"flow line {i}", f"task line {i}")]
    assert [log.message for log in _user_lines(records, pipeline())] == expected


def test_unicode_and_emoji_are_recorded_intact(records: Records) -> None:
    text = "Zürich → 東京 🌊🚀 naïve façade \u200d"

    @task
    def step() -> None:
        get_run_logger().info(text)

    @flow
    def pipeline() -> object:
        get_run_logger().info(text)
        step()
        return flow_run.id

    assert [log.message for log in _user_lines(records, pipeline())] == [text, text]


def test_logger_exception_records_the_traceback(records: Records) -> None:
    @flow
    def pipeline() -> object:
        try:
            raise KeyError("missing key")
        except KeyError:
            get_run_logger().exception("lookup failed")
        return flow_run.id

    (line,) = [log for log in records.logs(pipeline()) if log.message.startswith("lookup failed")]
    assert "Traceback" in line.message and "KeyError: 'missing key'" in line.message
    assert line.level == logging.ERROR


def test_get_run_logger_outside_a_run_raises_a_clear_error() -> None:
    with pytest.raises(MissingContextError, match="outside of a flow or task run"):
        get_run_logger()
    with pytest.raises(RuntimeError):  # MissingContextError is also a RuntimeError
        get_run_logger()


def test_task_called_outside_a_flow_has_no_run_logger() -> None:
    @task
    def step() -> None:
        get_run_logger()

    with pytest.raises(MissingContextError):
        step()


def test_log_prints_in_a_flow_records_prints_and_its_tasks_inherit(
    records: Records, capsys: pytest.CaptureFixture[str]
) -> None:
    @task
    def step() -> object:
        print("printed in the task", 1, sep=" #")
        return task_run.id

    @flow(log_prints=True)
    def pipeline() -> tuple[object, object]:
        print("printed in the flow 🎉")
        return flow_run.id, step()

    run_id, task_run_id = pipeline()
    lines = [(log.message, log.level, log.task_run_id) for log in _user_lines(records, run_id)]
    assert lines == [
        ("printed in the flow 🎉", logging.INFO, None),
        ("printed in the task #1", logging.INFO, task_run_id),
    ]
    assert "printed in" not in capsys.readouterr().out  # logged instead of printed


def test_task_log_prints_false_overrides_the_flow(records: Records, capsys: pytest.CaptureFixture[str]) -> None:
    @task(log_prints=False)
    def quiet() -> None:
        print("to stdout only")

    @flow(log_prints=True)
    def pipeline() -> object:
        quiet()
        return flow_run.id

    run_id = pipeline()
    assert "to stdout only" in capsys.readouterr().out
    assert "to stdout only" not in records.messages(run_id)


def test_task_log_prints_true_in_a_flow_without_it(records: Records, capsys: pytest.CaptureFixture[str]) -> None:
    @task(log_prints=True)
    def chatty() -> None:
        print("from the chatty task")

    @flow
    def pipeline() -> object:
        print("from the flow")
        chatty()
        return flow_run.id

    run_id = pipeline()
    messages = records.messages(run_id)
    assert "from the chatty task" in messages
    assert "from the flow" not in messages
    out = capsys.readouterr().out
    assert "from the flow" in out and "from the chatty task" not in out


def test_prints_outside_runs_and_to_other_files_are_untouched(capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    @flow(log_prints=True)
    def pipeline() -> None:
        print("to stderr", file=sys.stderr)

    pipeline()
    print("after the flow")
    captured = capsys.readouterr()
    assert "after the flow" in captured.out
    assert "to stderr" in captured.err


def test_log_prints_in_submitted_tasks(records: Records) -> None:
    @task
    def step(i: int) -> None:
        print(f"submitted {i}")

    @flow(log_prints=True)
    def pipeline() -> object:
        step.map(range(3)).wait()
        return flow_run.id

    messages = records.messages(pipeline())
    assert sorted(m for m in messages if m.startswith("submitted")) == ["submitted 0", "submitted 1", "submitted 2"]


def test_extra_arguments_are_formatted(records: Records) -> None:
    @flow
    def pipeline() -> object:
        get_run_logger().info("%s rows in %.1f s", 12, 0.5)
        return flow_run.id

    assert "12 rows in 0.5 s" in records.messages(pipeline())
