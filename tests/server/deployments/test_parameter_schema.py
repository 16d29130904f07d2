"""The small JSON-schema checker behind `enforce_parameter_schema`, on schemas pydantic makes."""

from __future__ import annotations

import datetime
from typing import Any, Literal

import pydantic
import pytest

from headwater.server.services._parameter_schema import parameter_problems


class Point(pydantic.BaseModel):
    x: int
    y: int = 0


def schema_of(**fields: Any) -> dict[str, Any]:
    model: type[pydantic.BaseModel] = pydantic.create_model("Parameters", **fields)
    return model.model_json_schema()


SCHEMA = schema_of(
    n=(int, ...),
    ratio=(float, 0.5),
    flag=(bool, False),
    names=(list[str], []),
    counts=(dict[str, int], {}),
    point=(Point | None, None),
    when=(datetime.datetime | None, None),
    mode=(Literal["a", "b"], "a"),
    pair=(tuple[int, str], (1, "a")),
)


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ({"n": 1.5}, "parameter 'n' must be an integer; got 1.5 (float)"),
        ({"n": True}, "parameter 'n' must be an integer; got True (bool)"),
        ({"n": 1, "ratio": "half"}, "parameter 'ratio' must be a number; got 'half' (str)"),
        ({"n": 1, "flag": 1}, "parameter 'flag' must be a boolean (true or false); got 1 (int)"),
        ({"n": 1, "names": ["a", 2]}, "parameter 'names'[1] must be a string; got 2 (int)"),
        ({"n": 1, "counts": {"a": "x"}}, "parameter 'counts'['a'] must be an integer; got 'x' (str)"),
        ({"n": 1, "point": {"y": 1}}, "parameter 'point' needs the key 'x'"),
        ({"n": 1, "point": 3}, "parameter 'point' must be a Point object or null (None); got 3 (int)"),
        ({"n": 1, "mode": "c"}, "parameter 'mode' must be one of 'a', 'b'; got 'c' (str)"),
        ({"n": 1, "pair": [1, 2]}, "parameter 'pair'[1] must be a string; got 2 (int)"),
        ({}, "parameter 'n' is required and was not given"),
        (
            {"n": 1, "m": 2},
            "unknown parameter 'm': the flow takes counts, flag, mode, n, names, pair, point, ratio, when",
        ),
    ],
)
def test_each_problem_is_named(parameters: dict[str, Any], problem: str) -> None:
    problems = parameter_problems(parameters, SCHEMA)
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_valid_parameters_have_no_problems() -> None:
    parameters = {
        "n": 3.0,  # JSON has one number type: 3.0 is an integer
        "ratio": 1,
        "names": ["a"],
        "counts": {"a": 1},
        "point": {"x": 1},
        "when": "2025-01-01T00:00:00Z",  # left to pydantic to parse when the flow runs
        "mode": "b",
        "pair": [2, "b"],
    }
    assert parameter_problems(parameters, SCHEMA) == []
    assert parameter_problems({"point": None, "n": 1}, SCHEMA) == []


def test_partial_checks_skip_missing_required_parameters() -> None:
    assert parameter_problems({}, SCHEMA, partial=True) == []
    assert parameter_problems({"n": "x"}, SCHEMA, partial=True) == ["parameter 'n' must be an integer; got 'x' (str)"]


def test_additional_properties_allow_unknown_parameters() -> None:
    assert parameter_problems({"n": 1, "m": 2}, {**SCHEMA, "additionalProperties": True}) == []
    typed = {**SCHEMA, "additionalProperties": {"type": "string"}}
    assert parameter_problems({"n": 1, "m": 2}, typed) == ["parameter 'm' must be a string; got 2 (int)"]


def test_an_empty_schema_accepts_anything() -> None:
    assert parameter_problems({"anything": object()}, {}) == []


def test_self_referencing_models_do_not_recurse_forever() -> None:
    class Node(pydantic.BaseModel):
        value: int
        child: Node | None = None

    schema = schema_of(tree=(Node, ...))
    deep: dict[str, Any] = {"value": 1}
    for _ in range(100):
        deep = {"value": 1, "child": deep}
    assert parameter_problems({"tree": deep}, schema) == []
    assert parameter_problems({"tree": {"value": 1, "child": {"value": "x"}}}, schema) == [
        "parameter 'tree'.child.value must be an integer; got 'x' (str)"
    ]
