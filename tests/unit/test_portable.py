"""The portable profile accepts exactly what the schema accepted, in the spelling clients take."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mcpgen.translate.portable import FORMATS, portable

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-5, 5) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner),
    max_leaves=6,
)
TYPES = st.lists(
    st.sampled_from(["string", "number", "integer", "boolean", "array", "object", "null"]),
    min_size=1,
    max_size=4,
)
KEYWORDS = st.fixed_dictionaries(
    {},
    optional={
        "minLength": st.integers(0, 3),
        "pattern": st.sampled_from(["^a", "b$"]),
        "minimum": st.integers(-2, 2),
        "multipleOf": st.sampled_from([1, 2]),
        "minItems": st.integers(0, 2),
        "items": st.sampled_from([{"type": "integer"}, {"type": ["string", "null"]}]),
        "required": st.just(["a"]),
        "properties": st.just({"a": {"type": ["integer", "null"], "minimum": 0}}),
        "additionalProperties": st.booleans(),
        "enum": st.lists(JSON, min_size=1, max_size=4),
        "description": st.just("Some value."),
    },
)


def _types(schema: Any) -> list[Any]:
    """Every `type` value anywhere in `schema`."""
    if isinstance(schema, dict):
        found = [schema["type"]] if "type" in schema else []
        return found + [t for value in schema.values() for t in _types(value)]
    if isinstance(schema, list):
        return [t for value in schema for t in _types(value)]
    return []


@settings(max_examples=300, deadline=None)
@given(TYPES, KEYWORDS, st.lists(JSON, min_size=1, max_size=8))
def test_a_type_union_accepts_the_same_instances_as_anyof_branches(
    types: list[str], keywords: dict[str, Any], instances: list[Any]
) -> None:
    schema = {"type": types, **keywords}
    rewritten = portable(schema)
    assert all(isinstance(t, str) for t in _types(rewritten)), rewritten
    Draft202012Validator.check_schema(rewritten)
    before, after = Draft202012Validator(schema), Draft202012Validator(rewritten)
    for instance in instances:
        assert before.is_valid(instance) == after.is_valid(instance), (instance, rewritten)


def test_a_nullable_string_keeps_its_keywords_in_its_branch() -> None:
    schema = {
        "type": ["string", "null"],
        "description": "When it was published.",
        "format": "date",
        "maxLength": 10,
    }
    assert portable(schema) == {
        "anyOf": [{"type": "string", "format": "date", "maxLength": 10}, {"type": "null"}],
        "description": "When it was published.",
    }


def test_a_union_beside_alternatives_must_hold_with_them() -> None:
    schema = {"type": ["string", "integer"], "anyOf": [{"minLength": 2}, {"minimum": 5}]}
    rewritten = portable(schema)
    assert rewritten == {
        "anyOf": [{"type": "string"}, {"type": "integer"}],
        "allOf": [{"anyOf": [{"minLength": 2}, {"minimum": 5}]}],
    }
    before, after = Draft202012Validator(schema), Draft202012Validator(rewritten)
    for instance in ("ab", "a", 7, 3, None, 2.5, True):
        assert before.is_valid(instance) == after.is_valid(instance), instance


def test_unknown_formats_move_into_the_description_and_known_ones_stay() -> None:
    assert portable({"type": "integer", "format": "unix-time", "description": "Expiry."}) == {
        "type": "integer",
        "description": "Expiry. (format: unix-time)",
    }
    assert portable({"type": "string", "format": "decimal"}) == {
        "type": "string",
        "description": "format: decimal",
    }
    for known in sorted(FORMATS):
        assert portable({"type": "string", "format": known})["format"] == known


def test_enums_list_each_json_value_once() -> None:
    values = ["a", "b", "a", 1, 1.0, True, None, None, {"x": 1}, {"x": 1.0}, [1], [True]]
    assert portable({"enum": values}) == {"enum": ["a", "b", 1, True, None, {"x": 1}, [1], [True]]}


def test_every_subschema_is_rewritten() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": ["integer", "null"]}},
        "items": {"type": ["string"]},
        "$defs": {"D": {"enum": ["x", "x"], "format": "currency"}},
        "anyOf": [{"type": ["boolean", "null"]}],
        "additionalProperties": {"type": ["number", "null"]},
    }
    assert portable(schema) == {
        "type": "object",
        "properties": {"a": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
        "items": {"type": "string"},
        "$defs": {"D": {"enum": ["x"], "description": "format: currency"}},
        "anyOf": [{"anyOf": [{"type": "boolean"}, {"type": "null"}]}],
        "additionalProperties": {"anyOf": [{"type": "number"}, {"type": "null"}]},
    }
