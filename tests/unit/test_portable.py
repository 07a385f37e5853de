"""The portable profile accepts exactly what the schema accepted, in the spelling clients take."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mcpgen.translate.portable import FORMATS, portable

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-5, 5) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abcd"), inner),
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
        "required": st.sampled_from([["a"], ["b"], ["a", "c"]]),
        "properties": st.just({"a": {"type": ["integer", "null"], "minimum": 0}}),
        "patternProperties": st.just({"^b": {"type": "string"}}),
        "additionalProperties": st.sampled_from([True, False, {}, {"type": "integer"}]),
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
    branches = [
        {"anyOf": [{"type": "string", "minLength": 2}, {"type": "integer"}]},
        {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 5}]},
    ]
    assert rewritten == {
        "anyOf": [{"type": "string"}, {"type": "integer"}],
        "allOf": [{"anyOf": branches}],
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
        kind = "number" if known in ("int32", "int64", "float", "double") else "string"
        assert portable({"type": kind, "format": known})["format"] == known
    assert portable({"type": "boolean", "format": "int32"}) == {
        "type": "boolean",
        "description": "format: int32",
    }
    # a known format of another type than the instance's is kept as a note, not dropped
    assert portable({"type": "string", "format": "int64"}) == {
        "type": "string",
        "description": "format: int64",
    }
    assert portable({"type": "integer", "format": "date", "description": "Day."}) == {
        "type": "integer",
        "description": "Day. (format: date)",
    }


def test_enums_list_each_json_value_once() -> None:
    values = ["a", "b", "a", 1, 1.0, True, None, None, {"x": 1}, {"x": 1.0}, [1], [True]]
    assert portable({"enum": values}) == {"enum": ["a", "b", 1, True, None, {"x": 1}, [1], [True]]}


def test_every_subschema_is_rewritten() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": ["integer", "null"]}},
        "propertyNames": {"type": ["string"]},
        "$defs": {"D": {"enum": ["x", "x"], "format": "currency"}},
        "anyOf": [{"type": ["boolean", "null"]}],
        "additionalProperties": {"type": ["number", "null"]},
    }
    assert portable(schema) == {
        "type": "object",
        "properties": {"a": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
        "propertyNames": {"type": "string"},
        "$defs": {"D": {"enum": ["x"], "description": "format: currency"}},
        "anyOf": [{"anyOf": [{"type": "boolean"}, {"type": "null"}]}],
        "additionalProperties": {"anyOf": [{"type": "number"}, {"type": "null"}]},
    }


ANY = {"anyOf": [{"type": t} for t in ("object", "array", "string", "number", "boolean", "null")]}


def test_a_schema_that_accepts_anything_says_so_with_types() -> None:
    assert portable({}) == ANY
    assert portable({"description": "Anything."}) == {**ANY, "description": "Anything."}
    assert portable({"type": "array", "items": {}}) == {"type": "array", "items": ANY}
    assert portable({"type": "object", "additionalProperties": {}}) == {
        "type": "object",
        "additionalProperties": True,
    }
    assert portable({"type": "object", "properties": {"a": False, "b": True}}) == {
        "type": "object",
        "properties": {"a": False, "b": True},
    }, "boolean schemas stay as written"
    inherited = portable({"type": "object", "allOf": [{"description": "An object."}]})
    assert inherited == {
        "type": "object",
        "allOf": [{"type": "object", "description": "An object."}],
    }
    for value in (None, True, 3, 2.5, "x", [1], {"a": 1}):
        assert Draft202012Validator(portable({})).is_valid(value)


def test_keywords_of_a_type_the_schema_cannot_be_are_dropped() -> None:
    assert portable({"type": "boolean", "uniqueItems": True, "description": "Watch."}) == {
        "type": "boolean",
        "description": "Watch.",
    }
    assert portable({"type": "object", "allOf": [{"minLength": 1, "required": ["a"]}]}) == {
        "type": "object",
        "allOf": [{"required": ["a"], "properties": {"a": ANY}}],
    }


def test_keywords_of_one_type_give_that_type() -> None:
    assert portable({"properties": {"a": {"type": "string"}}}) == {
        "type": "object",
        "properties": {"a": {"type": "string"}},
    }
    assert portable({"items": {"type": "string"}, "minLength": 2}) == {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "string", "minLength": 2},
        ]
    }
    assert portable({"anyOf": [{"properties": {}}, {"type": "null"}]}) == {
        "anyOf": [{"type": "object", "properties": {}}, {"type": "null"}]
    }


def test_required_names_get_a_property() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
        "oneOf": [{"required": ["a"]}, {"required": ["b", "c"]}],
    }
    rewritten = portable(schema)
    assert rewritten["oneOf"] == [
        {"required": ["a"], "properties": {"a": ANY}},
        {"required": ["b", "c"], "properties": {"b": ANY, "c": ANY}},
    ]
    before, after = Draft202012Validator(schema), Draft202012Validator(rewritten)
    for value in ({"a": "x"}, {"b": 1, "c": None}, {"a": "x", "b": 1, "c": 2}, {}, {"a": 1}):
        assert before.is_valid(value) == after.is_valid(value), value


def test_patterns_lose_escapes_that_u_mode_refuses() -> None:
    cases = {
        r"^2021\-03\-31$": r"^2021-03-31$",
        r"[a-zA-Z0-9\-\_\.]+": r"[a-zA-Z0-9\-_\.]+",
        r"^[\+0-9\#\,\(][\+0-9\-\.\/\(\)\,\#\s]+$": r"^[\+0-9#,\(][\+0-9\-\.\/\(\),#\s]+$",
        r"^\d+\w*\$\\[\]]": r"^\d+\w*\$\\[\]]",
    }
    for pattern, expected in cases.items():
        rewritten = portable({"type": "string", "pattern": pattern})["pattern"]
        assert rewritten == expected, pattern
        for text in ("2021-03-31", "ab-_.", "+1 #2", "12a$\\]", "x"):
            assert bool(re.search(pattern, text)) == bool(re.search(rewritten, text))


def test_a_schema_without_type_takes_the_types_of_its_alternatives() -> None:
    schema = {"items": {"type": "object"}, "anyOf": [{"type": "object"}, {"type": "array"}]}
    rewritten = portable(schema)
    assert rewritten == {
        "anyOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}],
        "allOf": [{"anyOf": [{"type": "object"}, {"type": "array"}]}],
    }
    before, after = Draft202012Validator(schema), Draft202012Validator(rewritten)
    values: list[Any] = [{}, [], [{}], [1], 1, None]
    for value in values:
        assert before.is_valid(value) == after.is_valid(value), value
