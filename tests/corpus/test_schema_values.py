"""Arguments drawn from input schemas for the tool-calling suites (scripts/schema_values.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from scripts.schema_values import arguments, string_for_pattern, value

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^cus_[A-Za-z0-9]{14}$"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "multipleOf": 5},
        "when": {"type": "string", "format": "date-time"},
        "kind": {"enum": [None, "a", "b"]},
        "meta": {
            "anyOf": [
                {"type": "object", "additionalProperties": {"type": "string"}},
                {"enum": [""]},
            ]
        },
        "tags": {"type": "array", "items": {"type": "string", "minLength": 3}, "minItems": 0},
        "node": {"$ref": "#/$defs/Node"},
        "both": {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
                {"properties": {"b": {"type": "boolean"}}},
            ]
        },
    },
    "required": ["id", "limit"],
    "additionalProperties": False,
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "next": {"$ref": "#/$defs/Node"}},
            "required": ["name"],
        }
    },
}


def test_minimal_gives_the_required_arguments_only() -> None:
    drawn = arguments(SCHEMA, "minimal")
    assert drawn is not None and set(drawn) == {"id", "limit"}
    assert drawn["limit"] == 5 and drawn["id"].startswith("cus_") and len(drawn["id"]) == 18
    assert Draft202012Validator(SCHEMA).is_valid(drawn)


def test_full_gives_every_argument_and_cuts_recursion() -> None:
    drawn = arguments(SCHEMA, "full")
    assert drawn is not None and set(drawn) == set(SCHEMA["properties"])
    assert Draft202012Validator(SCHEMA).is_valid(drawn)
    assert drawn["node"] == {"name": "sample"}  # `next` would recurse: left out
    assert drawn["tags"] == ["sample"] and drawn["kind"] == "a"
    assert drawn["meta"] == {"key": "sample"} and drawn["both"] == {"a": 1, "b": True}
    assert drawn["when"] == "2024-01-31T12:00:00Z" and drawn["limit"] == 5


@pytest.mark.parametrize(
    "pattern",
    [r"^[a-z]{2,3}-\d+$", r"^(foo|bar)\.json$", r"[^/]+", r"^\w+@\w+\.com$", r"^(a)\1$", r"^x{3}$"],
)
def test_strings_match_their_patterns(pattern: str) -> None:
    text = string_for_pattern(pattern)
    assert text is not None and re.search(pattern, text)


def test_a_schema_that_cannot_be_met_gives_none() -> None:
    assert value({"type": "integer", "minimum": 5, "maximum": 1}, "full") is None
    assert (
        arguments(
            {"type": "object", "properties": {"x": {"not": {}}}, "required": ["x"]}, "minimal"
        )
        is None
    )
