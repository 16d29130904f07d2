"""Checking a run's parameters against its deployment's parameter schema (the JSON schema pydantic made from
the flow's signature), without a JSON-schema library.

What is checked: required parameters are present; no unknown parameters unless the schema allows
additional properties; JSON types (string, integer, number, boolean, array, object, null) with `anyOf` /
`oneOf` / `allOf`, `enum`, `const`, `$ref` into `$defs`, array `items` / `prefixItems` and object
`properties` / `required` / `additionalProperties`, recursively. Formats, lengths and ranges are left to
the flow's own validation when it runs (pydantic coerces, for instance, an ISO string into a datetime).
"""

from __future__ import annotations

from typing import Any

_MAX_DEPTH = 32
"""Deeper than this (a self-referencing model), values are not looked into further."""


def parameter_problems(parameters: dict[str, Any], schema: dict[str, Any], *, partial: bool = False) -> list[str]:
    """What is wrong with `parameters` under `schema`, one sentence each (empty when nothing is).

    Args:
        parameters: The run's parameters, defaults merged in.
        schema: The deployment's `parameter_openapi_schema`. Without `properties`, anything goes.
        partial: Skip the check for missing required parameters (a deployment's defaults may leave some
            to each run).
    """
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    checker = _Checker(schema)
    problems: list[str] = []
    if not partial:
        problems.extend(
            f"parameter {name!r} is required and was not given (nor has the deployment a default for it)"
            for name in schema.get("required", [])
            if name not in parameters
        )
    extra = schema.get("additionalProperties", False)
    for name, value in parameters.items():
        if name in properties:
            problems.extend(checker.check(value, properties[name], repr(name), 0))
        elif extra is False:
            # Sorted: PostgreSQL (jsonb) does not keep the schema's key order, so signature order is lost.
            known = ", ".join(sorted(properties)) or "none"
            problems.append(f"unknown parameter {name!r}: the flow takes {known}")
        elif isinstance(extra, dict):
            problems.extend(checker.check(value, extra, repr(name), 0))
    return problems


_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "array": "a list",
    "object": "an object (a dict)",
    "null": "null (None)",
}


def _is_type(value: Any, json_type: str) -> bool:
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if json_type == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "array":
        return isinstance(value, list | tuple)
    if json_type == "object":
        return isinstance(value, dict)
    if json_type == "null":
        return value is None
    return True  # a type this checker does not know: not held against the value


def _is_kind(value: Any, schema: dict[str, Any]) -> bool:
    """Whether `value` has the JSON type `schema` declares (nothing else checked)."""
    types = schema.get("type")
    if types is None:
        return False
    return any(_is_type(value, t) for t in ([types] if isinstance(types, str) else types))


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


class _Checker:
    def __init__(self, root: dict[str, Any]) -> None:
        self.definitions: dict[str, Any] = {**root.get("definitions", {}), **root.get("$defs", {})}

    def _resolve(self, schema: Any) -> dict[str, Any]:
        for _ in range(_MAX_DEPTH):
            if not isinstance(schema, dict) or "$ref" not in schema:
                break
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            schema = {**self.definitions.get(name, {}), **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema if isinstance(schema, dict) else {}

    def check(self, value: Any, schema: Any, where: str, depth: int) -> list[str]:
        """Problems of `value` under `schema`; `where` names the value (`'x'`, `'x'[2]`, `'x'.a`)."""
        if depth > _MAX_DEPTH:
            return []
        schema = self._resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self._resolve(option) for option in schema[key]]
                outcomes = [self.check(value, option, where, depth + 1) for option in options]
                if any(not problems for problems in outcomes):
                    return []
                # When the value has the right type for one option only ({"y": 1} for `Point | None`),
                # what is wrong inside it says more than the list of options.
                same_type = [
                    problems for option, problems in zip(options, outcomes, strict=True) if _is_kind(value, option)
                ]
                if len(same_type) == 1:
                    return same_type[0]
                expected = " or ".join(_describe(option) for option in options)
                return [f"parameter {where} must be {expected}; got {_show(value)}"]
        problems = [p for part in schema.get("allOf", []) for p in self.check(value, part, where, depth + 1)]
        if "const" in schema and value != schema["const"]:
            problems.append(f"parameter {where} must be {schema['const']!r}; got {_show(value)}")
        if "enum" in schema and value not in schema["enum"]:
            choices = ", ".join(repr(choice) for choice in schema["enum"])
            problems.append(f"parameter {where} must be one of {choices}; got {_show(value)}")
        types = schema.get("type")
        if types is not None:
            types = [types] if isinstance(types, str) else list(types)
            if not any(_is_type(value, t) for t in types):
                expected = " or ".join(_TYPE_NAMES.get(t, t) for t in types)
                return [*problems, f"parameter {where} must be {expected}; got {_show(value)}"]
        if isinstance(value, list | tuple):
            problems.extend(self._check_items(list(value), schema, where, depth))
        elif isinstance(value, dict):
            problems.extend(self._check_properties(value, schema, where, depth))
        return problems

    def _check_items(self, value: list[Any], schema: dict[str, Any], where: str, depth: int) -> list[str]:
        problems: list[str] = []
        prefix = schema.get("prefixItems", [])
        for index, item in enumerate(value):
            item_schema = prefix[index] if index < len(prefix) else schema.get("items")
            if isinstance(item_schema, dict):
                problems.extend(self.check(item, item_schema, f"{where}[{index}]", depth + 1))
        return problems

    def _check_properties(self, value: dict[str, Any], schema: dict[str, Any], where: str, depth: int) -> list[str]:
        problems: list[str] = []
        properties = schema.get("properties", {})
        problems.extend(
            f"parameter {where} needs the key {key!r}" for key in schema.get("required", []) if key not in value
        )
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                problems.extend(self.check(item, properties[key], f"{where}.{key}", depth + 1))
            elif extra is False:
                problems.append(f"parameter {where} has an unexpected key {key!r}")
            elif isinstance(extra, dict):
                problems.extend(self.check(item, extra, f"{where}[{key!r}]", depth + 1))
        return problems


def _describe(schema: dict[str, Any]) -> str:
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(repr(choice) for choice in schema["enum"])
    types = schema.get("type")
    if types == "object" and "title" in schema:  # a model: its name says more than "an object"
        return f"a {schema['title']} object"
    if isinstance(types, str):
        return _TYPE_NAMES.get(types, types)
    if isinstance(types, list):
        return " or ".join(_TYPE_NAMES.get(str(t), str(t)) for t in types)
    if "title" in schema:
        return f"a {schema['title']}"
    return "a valid value"
