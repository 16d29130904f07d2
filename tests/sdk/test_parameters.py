"""Flow parameters: validated and coerced from the type hints with pydantic before the run starts;
missing or invalid parameters fail the run with a message naming the parameter and what was expected."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Literal

import pytest
from pydantic import BaseModel
from sdk_support import Records

from headwater import flow
from headwater.core.states import StateType
from headwater.exceptions import ParameterBindError, ParameterTypeError
from headwater.runtime import flow_run


class Config(BaseModel):
    rows: int
    label: str = "default"


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


def test_parameters_are_coerced_to_their_hints(records: Records) -> None:
    @flow
    def typed(count: int, day: date, ratio: float, colour: Colour) -> tuple[object, ...]:
        assert flow_run.parameters["count"] == 3  # the run's parameters are the coerced values
        return count, day, ratio, colour

    assert typed("3", "2024-01-02", "0.5", "red") == (3, date(2024, 1, 2), 0.5, Colour.RED)
    run = records.only_flow_run(flow_name=["typed"])
    assert run.state_type is StateType.COMPLETED
    assert sorted(run.parameters) == ["colour", "count", "day", "ratio"]
    assert run.parameters["day"] == "2024-01-02"


def test_pydantic_model_parameter_is_built_from_a_dict() -> None:
    @flow
    def configured(config: Config) -> Config:
        return config

    result = configured({"rows": "10"})  # type: ignore[arg-type]
    assert isinstance(result, Config)
    assert result == Config(rows=10, label="default")
    assert configured(Config(rows=1)) == Config(rows=1)


def test_defaults_and_optional_and_containers() -> None:
    @flow
    def defaults(names: list[str], limit: int | None = None, when: datetime | None = None) -> tuple[object, ...]:
        return names, limit, when

    assert defaults(["a", "b"]) == (["a", "b"], None, None)
    assert defaults(("a",), limit="4") == (["a"], 4, None)  # type: ignore[arg-type]


def test_invalid_parameter_fails_the_run_naming_the_parameter_and_the_expectation(records: Records) -> None:
    @flow
    def typed(count: int, day: date) -> None:
        raise AssertionError("must not run")

    with pytest.raises(ParameterTypeError) as caught:
        typed("three", "2024-01-02")  # type: ignore[arg-type]
    message = str(caught.value)
    assert "count" in message and "integer" in message and "three" in message
    assert "day" not in message  # only the invalid one is named

    run = records.only_flow_run(flow_name=["typed"])
    assert run.state_type is StateType.FAILED
    assert run.state is not None and "count" in (run.state.message or "")
    assert "integer" in (run.state.message or "")


def test_every_invalid_parameter_is_named(records: Records) -> None:
    @flow
    def typed(count: int, day: date, colour: Literal["red", "blue"]) -> None:
        pass

    state = typed("x", "not a date", "green", return_state=True)  # type: ignore[arg-type]
    assert state.is_failed()
    message = state.message or ""
    for expected in ("count", "day", "colour", "'red'", "'blue'"):
        assert expected in message, (expected, message)


def test_invalid_nested_model_field_names_its_path() -> None:
    @flow
    def configured(config: Config) -> None:
        pass

    state = configured({"rows": "many"}, return_state=True)  # type: ignore[arg-type]
    assert state.is_failed()
    assert "config.rows" in (state.message or "")


def test_missing_parameter_fails_the_run_naming_it(records: Records) -> None:
    @flow
    def needs(count: int, day: date) -> None:
        raise AssertionError("must not run")

    with pytest.raises(ParameterBindError, match="day"):
        needs(1)  # type: ignore[call-arg]
    run = records.only_flow_run(flow_name=["needs"])
    assert run.state_type is StateType.FAILED
    assert run.state is not None and "day" in (run.state.message or "")
    assert run.parameters == {"count": 1}  # what was given is recorded


def test_unexpected_parameter_fails_the_run_naming_it() -> None:
    @flow
    def needs(count: int) -> None:
        pass

    state = needs(1, colour="red", return_state=True)  # type: ignore[call-arg]
    assert state.is_failed()
    assert "colour" in (state.message or "")


def test_validate_parameters_false_passes_values_as_given(records: Records) -> None:
    @flow(validate_parameters=False)
    def raw(count: int) -> object:
        return count

    assert raw("3") == "3"  # type: ignore[arg-type]
    assert raw("not even a number") == "not even a number"  # type: ignore[arg-type]
    assert all(r.state_type is StateType.COMPLETED for r in records.flow_runs(flow_name=["raw"]))


def test_unhinted_parameters_take_anything() -> None:
    @flow
    def loose(value, other=None):  # type: ignore[no-untyped-def]
        return value, other

    marker = object()
    assert loose(marker) == (marker, None)


def test_parameters_that_json_cannot_hold_are_recorded_as_text(records: Records) -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "Opaque()"

        def __str__(self) -> str:
            return "an opaque thing"

    @flow
    def takes(thing) -> str:  # type: ignore[no-untyped-def]
        return "ok"

    assert takes(Opaque()) == "ok"
    run = records.only_flow_run(flow_name=["takes"])
    assert run.parameters == {"thing": "an opaque thing"}


def test_with_options_can_turn_validation_off() -> None:
    @flow
    def typed(count: int) -> object:
        return count

    assert typed("2") == 2  # type: ignore[arg-type]
    assert typed.with_options(validate_parameters=False)("2") == "2"  # type: ignore[arg-type]
