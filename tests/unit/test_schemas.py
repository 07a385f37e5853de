"""OpenAPI schemas → JSON Schema 2020-12 tool schemas (mcpgen.translate.schemas)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import pytest

from mcpgen.errors import McpgenError, Report, join_pointer
from mcpgen.translate.schemas import (
    Direction,
    SchemaConverter,
    SchemaSession,
    check_schema,
    python_type,
)

FILE = "openapi.yaml"
ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / ".cache" / "corpus"


def doc(schemas: Mapping[str, Any], version: str = "3.0.3") -> dict[str, Any]:
    return {
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "components": {"schemas": dict(schemas)},
    }


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def converter(
    schemas: Mapping[str, Any],
    *,
    version: Literal["3.0", "3.1"] = "3.0",
    report: Report | None = None,
    budget: int = 10**9,
) -> SchemaConverter:
    document = doc(schemas, "3.1.0" if version == "3.1" else "3.0.3")
    return SchemaConverter(
        document, version=version, file=FILE, report=report or Report(), budget=budget
    )


def tool_schema(session: SchemaSession, fragment: dict[str, Any]) -> dict[str, Any]:
    """The fragment as a whole tool schema, checked against the 2020-12 meta-schema."""
    defs = session.defs()
    schema = {**fragment, "$defs": defs} if defs else fragment
    check_schema(schema)
    json.dumps(schema)
    return schema


def convert(
    node: Any,
    schemas: Mapping[str, Any] | None = None,
    *,
    direction: Direction = "output",
    version: Literal["3.0", "3.1"] = "3.0",
    report: Report | None = None,
    budget: int = 10**9,
) -> dict[str, Any]:
    conv = converter(schemas or {}, version=version, report=report, budget=budget)
    session = conv.session(direction)
    return tool_schema(session, session.convert(node, "/paths/~1x/get/schema"))


def refs_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"]
        for item in value.values():
            yield from refs_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs_in(item)


PET = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}


# --- references: inline, shared, recursive ------------------------------------------------


def test_used_once_is_inlined() -> None:
    out = convert({"type": "array", "items": ref("Pet")}, {"Pet": PET})
    assert out == {"type": "array", "items": PET}


def test_used_twice_goes_to_defs_once() -> None:
    node = {"type": "object", "properties": {"a": ref("Pet"), "b": ref("Pet")}}
    out = convert(node, {"Pet": PET})
    assert out["properties"] == {"a": {"$ref": "#/$defs/Pet"}, "b": {"$ref": "#/$defs/Pet"}}
    assert out["$defs"] == {"Pet": PET}


def test_used_once_inside_a_shared_schema_stays_inline_there() -> None:
    schemas = {"Owner": {"type": "object", "properties": {"pet": ref("Pet")}}, "Pet": PET}
    node = {"type": "object", "properties": {"a": ref("Owner"), "b": ref("Owner")}}
    out = convert(node, schemas)
    assert out["$defs"] == {"Owner": {"type": "object", "properties": {"pet": PET}}}


def test_self_recursion_becomes_a_def() -> None:
    category = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "children": {"type": "array", "items": ref("Category")},
        },
    }
    out = convert(ref("Category"), {"Category": category})
    assert out["$ref"] == "#/$defs/Category"
    children = out["$defs"]["Category"]["properties"]["children"]
    assert children == {"type": "array", "items": {"$ref": "#/$defs/Category"}}


def test_mutual_recursion_puts_both_in_defs() -> None:
    schemas = {
        "A": {"type": "object", "properties": {"b": ref("B")}},
        "B": {"type": "object", "properties": {"a": ref("A")}},
    }
    out = convert({"type": "object", "properties": {"x": ref("A")}}, schemas)
    assert out["properties"]["x"] == {"$ref": "#/$defs/A"}
    assert out["$defs"] == {
        "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}},
        "B": {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}},
    }


def test_alias_chains_are_followed() -> None:
    out = convert(ref("Alias"), {"Alias": ref("Alias2"), "Alias2": ref("Pet"), "Pet": PET})
    assert out == PET


def test_defs_are_per_session_and_reused_across_converts() -> None:
    conv = converter({"Pet": PET, "Category": {"type": "object", "properties": {"c": ref("C")}}})
    first = conv.session("input")
    a = first.convert({"type": "object", "properties": {"p": ref("Pet"), "q": ref("Pet")}}, "/a")
    b = first.convert(ref("Pet"), "/b")
    assert a["properties"]["p"] == b == {"$ref": "#/$defs/Pet"}
    assert list(first.defs()) == ["Pet"]
    second = conv.session("input")
    assert second.convert(ref("Pet"), "/c") == PET
    assert second.defs() == {}


def test_def_names_are_sanitized_and_unique() -> None:
    schemas = {"a b": PET, "a_b": {"type": "string", "format": "uuid"}}
    uses = (("w", "a b"), ("x", "a b"), ("y", "a_b"), ("z", "a_b"))
    node = {"type": "object", "properties": {key: ref(name) for key, name in uses}}
    out = convert(node, schemas)
    assert sorted(out["$defs"]) == ["a_b", "a_b_2"]
    assert out["properties"]["w"] == {"$ref": "#/$defs/a_b"}
    assert out["properties"]["y"] == {"$ref": "#/$defs/a_b_2"}


def test_ref_into_another_schema_is_allowed() -> None:
    out = convert({"$ref": "#/components/schemas/Pet/properties/name"}, {"Pet": PET})
    assert out == {"type": "string"}


def test_trivial_schemas_are_always_inlined() -> None:
    node = {"type": "object", "properties": {"a": ref("Any"), "b": ref("Any")}}
    out = convert(node, {"Any": {}})
    assert out == {"type": "object", "properties": {"a": {}, "b": {}}}


def test_long_chains_do_not_exhaust_the_python_stack() -> None:
    size = 3000
    schemas = {
        f"S{i}": {"type": "object", "properties": {"next": ref(f"S{i + 1}")}} for i in range(size)
    }
    schemas[f"S{size}"] = {"type": "string"}
    schemas["Loop0"] = {"type": "object", "properties": {"next": ref("Loop1")}}
    for i in range(1, size):
        schemas[f"Loop{i}"] = {"type": "object", "properties": {"next": ref(f"Loop{i + 1}")}}
    schemas[f"Loop{size}"] = {"type": "array", "items": ref("Loop0")}
    conv = converter(schemas)
    for name in ("S0", "Loop0"):
        session = conv.session("output")
        out = session.convert(ref(name), "/x")
        defs = session.defs()
        assert len(json.dumps({**out, "$defs": defs})) > size * 10
        assert all(r.removeprefix("#/$defs/") in defs for r in refs_in([out, defs]))


def test_deeply_nested_inline_schema_is_a_located_error() -> None:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(150):
        node = {"type": "array", "items": node}
    with pytest.raises(McpgenError) as caught:
        convert(node)
    assert caught.value.diagnostics[0].code == "schema-depth"


# --- errors ---------------------------------------------------------------------------------


def error_of(node: Any, schemas: Mapping[str, Any] | None = None) -> tuple[str, str | None, str]:
    with pytest.raises(McpgenError) as caught:
        convert(node, schemas)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.file == FILE
    return diagnostic.code, diagnostic.pointer, diagnostic.message


def test_dangling_ref_is_a_located_error() -> None:
    node = {"type": "object", "properties": {"a": ref("Nope")}}
    code, pointer, message = error_of(node)
    assert code == "schema-ref"
    assert pointer == "/paths/~1x/get/schema/properties/a"
    assert message == "cannot resolve $ref '#/components/schemas/Nope'"


def test_dangling_ref_inside_a_component_is_located_there() -> None:
    _, pointer, _ = error_of(ref("Pet"), {"Pet": {"type": "array", "items": ref("Nope")}})
    assert pointer == "/components/schemas/Pet/items"


def test_ref_to_a_non_schema_is_an_error() -> None:
    code, _, message = error_of({"$ref": "#/info"})
    assert code == "schema-ref"
    assert "does not point to a schema" in message


def test_ref_cycle_without_a_schema_is_an_error() -> None:
    code, _, message = error_of(ref("A"), {"A": ref("B"), "B": ref("A")})
    assert code == "schema-ref"
    assert "cycle" in message


def test_external_ref_is_an_error() -> None:
    code, _, message = error_of({"$ref": "other.yaml#/Pet"})
    assert (code, message) == (
        "schema-ref",
        "only local $refs (#/...) are supported: 'other.yaml#/Pet'",
    )


def test_schema_that_is_not_an_object_is_an_error() -> None:
    code, pointer, _ = error_of({"type": "object", "properties": {"a": "string"}})
    assert (code, pointer) == ("schema-invalid", "/paths/~1x/get/schema/properties/a")


def test_resolve_follows_any_local_ref() -> None:
    document = doc({})
    document["components"]["parameters"] = {
        "Limit": {"name": "limit", "in": "query", "schema": {"type": "integer"}},
        "Alias": {"$ref": "#/components/parameters/Limit"},
    }
    session = SchemaConverter(document, version="3.0", file=FILE, report=Report()).session("input")
    node, pointer = session.resolve({"$ref": "#/components/parameters/Alias"}, "/paths/~1x/get")
    assert node["name"] == "limit"
    assert pointer == "/components/parameters/Limit"
    plain = {"name": "q"}
    assert session.resolve(plain, "/p") == (plain, "/p")
    with pytest.raises(McpgenError) as caught:
        session.resolve({"$ref": "#/components/parameters/Nope"}, "/paths/~1x/get/parameters/0")
    assert caught.value.diagnostics[0].pointer == "/paths/~1x/get/parameters/0"


# --- OpenAPI 3.0 keywords -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"type": "string", "nullable": True}, {"type": ["string", "null"]}),
        (
            {"type": "string", "enum": ["a", "b"], "nullable": True},
            {"type": ["string", "null"], "enum": ["a", "b", None]},
        ),
        ({"enum": ["a"], "nullable": True}, {"enum": ["a", None]}),
        (
            {"allOf": [ref("Pet")], "nullable": True, "description": "The pet."},
            {"description": "The pet.", "anyOf": [PET, {"type": "null"}]},
        ),
        (
            {"$ref": "#/components/schemas/Pet", "nullable": True},
            {"anyOf": [PET, {"type": "null"}]},
        ),
        (
            {"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": True},
            {"anyOf": [{"oneOf": [{"type": "string"}, {"type": "integer"}]}, {"type": "null"}]},
        ),
        (
            {"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": True},
            {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
        ),
        ({"nullable": True, "description": "x"}, {"description": "x"}),
    ],
)
def test_nullable(node: dict[str, Any], expected: dict[str, Any]) -> None:
    assert convert(node, {"Pet": PET}, direction="input") == expected


def test_nullable_ref_used_twice_stays_a_reference() -> None:
    nullable = {"allOf": [ref("Pet")], "nullable": True}
    out = convert({"type": "object", "properties": {"a": nullable, "b": ref("Pet")}}, {"Pet": PET})
    assert out["properties"]["a"] == {"anyOf": [{"$ref": "#/$defs/Pet"}, {"type": "null"}]}


def test_example_and_exclusive_bounds() -> None:
    node = {
        "type": "number",
        "example": 3,
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 10,
        "exclusiveMaximum": False,
    }
    assert convert(node) == {
        "type": "number",
        "examples": [3],
        "exclusiveMinimum": 0,
        "maximum": 10,
    }


def test_openapi_only_and_unknown_keywords_are_dropped() -> None:
    report = Report()
    node = {
        "type": "object",
        "x-internal": True,
        "xml": {"name": "pet"},
        "externalDocs": {"url": "https://example.com"},
        "discriminator": {"propertyName": "kind"},
        "dependentRequired": {"kind": ["name"]},
        "properties": {"kind": {"type": "string", "x-order": 1}},
    }
    out = convert(node, report=report)
    assert out == {"type": "object", "properties": {"kind": {"type": "string"}}}
    assert [(w.code, w.pointer) for w in report.warnings] == [
        ("schema-keyword", "/paths/~1x/get/schema/dependentRequired")
    ]


def test_invalid_keyword_values_are_dropped_with_a_warning() -> None:
    report = Report()
    node = {
        "type": "string",
        "maxLength": -1,
        "pattern": "^\\p{L}+$",
        "required": "name",
        "description": "  Padded.  ",
        "format": "date",
    }
    out = convert(node, report=report)
    assert out == {"type": "string", "description": "Padded.", "format": "date"}
    assert {w.code for w in report.warnings} == {"schema-keyword", "schema-pattern"}


def test_large_examples_and_false_flags_are_left_out() -> None:
    node = {
        "type": "object",
        "readOnly": False,
        "deprecated": False,
        "examples": [{"a": "x" * 100}, {"b": "y" * 1000}],
        "properties": {"big": {"type": "string", "example": "z" * 2000}},
    }
    out = convert(node, version="3.1")
    assert out == {
        "type": "object",
        "examples": [{"a": "x" * 100}],
        "properties": {"big": {"type": "string"}},
    }


def test_arrays_always_have_items() -> None:
    assert convert({"type": "array"}) == {"type": "array", "items": {}}
    assert convert({"type": "object"}) == {"type": "object"}
    assert convert({}) == {}


def test_keyword_order_is_fixed() -> None:
    node = {
        "properties": {"b": {}, "a": {}},
        "required": ["b"],
        "description": "d",
        "type": "object",
    }
    out = convert(node)
    assert list(out) == ["type", "description", "properties", "required"]
    assert list(out["properties"]) == ["b", "a"]


# --- composition ----------------------------------------------------------------------------


def test_allof_of_objects_is_merged() -> None:
    schemas = {
        "Base": {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "integer"}},
            "description": "Base.",
        },
    }
    node = {
        "description": "Extended.",
        "allOf": [
            ref("Base"),
            {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        ],
    }
    assert convert(node, schemas) == {
        "type": "object",
        "description": "Extended.",
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        "required": ["id", "name"],
    }


def test_allof_conflict_is_kept() -> None:
    node = {"allOf": [{"type": "string"}, {"type": "integer"}]}
    assert convert(node) == node


def test_allof_single_member_collapses() -> None:
    assert convert({"allOf": [{"type": "string"}], "description": "d"}) == {
        "type": "string",
        "description": "d",
    }


def test_allof_with_recursive_member_keeps_the_reference() -> None:
    schemas = {"Node": {"type": "object", "properties": {"next": ref("Node")}}}
    node = {"allOf": [ref("Node"), {"required": ["next"]}]}
    out = convert(node, schemas)
    assert out["allOf"] == [{"$ref": "#/$defs/Node"}, {"required": ["next"]}]


def test_same_property_in_two_allof_members() -> None:
    node = {
        "allOf": [
            {"properties": {"a": {"type": "string"}}},
            {"properties": {"a": {"maxLength": 3}}},
            {"properties": {"a": {"type": "integer"}}},
        ]
    }
    out = convert(node)
    assert out == {
        "properties": {"a": {"allOf": [{"type": "string", "maxLength": 3}, {"type": "integer"}]}}
    }


def test_oneof_with_discriminator_stays_valid() -> None:
    schemas = {
        "Cat": {"type": "object", "properties": {"kind": {"type": "string"}}},
        "Dog": {"type": "object", "properties": {"kind": {"type": "string"}, "bark": {}}},
    }
    node = {
        "oneOf": [ref("Cat"), ref("Dog")],
        "discriminator": {"propertyName": "kind", "mapping": {"cat": "#/components/schemas/Cat"}},
    }
    inputs = convert(node, schemas, direction="input")
    assert inputs == {"oneOf": [schemas["Cat"], schemas["Dog"]]}
    # A reply matching both branches must still validate: outputs check them as anyOf.
    assert convert(node, schemas, direction="output") == {"anyOf": [schemas["Cat"], schemas["Dog"]]}


# --- directions -----------------------------------------------------------------------------


SECRET = {
    "type": "object",
    "required": ["id", "password", "name"],
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "password": {"type": "string", "writeOnly": True},
        "name": {"type": "string"},
        "created": ref("Timestamp"),
    },
}


def test_read_only_left_out_of_inputs_write_only_out_of_outputs() -> None:
    schemas = {"Secret": SECRET, "Timestamp": {"type": "string", "readOnly": True}}
    inputs = convert(ref("Secret"), schemas, direction="input")
    assert list(inputs["properties"]) == ["password", "name"]
    assert inputs["required"] == ["password", "name"]
    outputs = convert(ref("Secret"), schemas, direction="output")
    assert list(outputs["properties"]) == ["id", "name", "created"]
    assert outputs["required"] == ["id", "name"]


def test_read_only_named_as_required_by_another_allof_member() -> None:
    schemas = {"Secret": SECRET, "Timestamp": {"type": "string"}}
    node = {"allOf": [ref("Secret"), {"required": ["id", "created"]}]}
    inputs = convert(node, schemas, direction="input")
    assert inputs["required"] == ["password", "name", "created"]


def test_one_converter_serves_both_directions() -> None:
    conv = converter({"Secret": SECRET, "Timestamp": {"type": "string"}})
    cases: list[tuple[Direction, str]] = [("input", "id"), ("output", "password"), ("input", "id")]
    for direction, absent in cases:
        session = conv.session(direction)
        assert absent not in session.convert(ref("Secret"), "/x")["properties"]


def test_binary_input_and_output() -> None:
    node = {"type": "string", "format": "binary", "description": "The photo."}
    assert convert(node, direction="input") == {
        "type": "string",
        "description": "The photo. (file content, base64-encoded)",
        "contentEncoding": "base64",
    }
    assert convert(node, direction="output") == {"type": "string", "description": "The photo."}
    assert convert({"type": "string", "format": "binary"}, direction="input") == {
        "type": "string",
        "description": "file content, base64-encoded",
        "contentEncoding": "base64",
    }
    media = {"type": "string", "contentMediaType": "image/png"}
    assert convert(media, direction="input", version="3.1")["contentEncoding"] == "base64"
    text = {"type": "string", "contentMediaType": "application/json"}
    assert convert(text, direction="input", version="3.1") == text


# --- OpenAPI 3.1 ----------------------------------------------------------------------------


def test_openapi_31_keywords() -> None:
    schemas = {"Pet": PET}
    node = {
        "type": "object",
        "properties": {
            "a": {"type": ["string", "null"], "examples": ["x"]},
            "b": {"const": "fixed"},
            "c": {"$ref": "#/components/schemas/Pet", "description": "First."},
            "d": {"$ref": "#/components/schemas/Pet", "description": "Second."},
            "e": True,
            "f": {"type": "array", "prefixItems": [{"type": "integer"}]},
        },
    }
    out = convert(node, schemas, version="3.1")
    assert out["properties"] == {
        "a": {"type": ["string", "null"], "examples": ["x"]},
        "b": {"const": "fixed"},
        "c": {"$ref": "#/$defs/Pet", "description": "First."},
        "d": {"$ref": "#/$defs/Pet", "description": "Second."},
        "e": True,
        "f": {"type": "array", "items": {}, "prefixItems": [{"type": "integer"}]},
    }


def test_ref_siblings_are_merged_into_an_inline_copy() -> None:
    node = {"$ref": "#/components/schemas/Pet", "description": "Only one."}
    assert convert(node, {"Pet": PET}, version="3.1") == {**PET, "description": "Only one."}


def test_boolean_schemas() -> None:
    assert convert(True, version="3.1") == {}
    assert convert(False, version="3.1") == {"not": {}}
    node = {"type": "object", "additionalProperties": False}
    assert convert(node, version="3.1") == node


# --- size budget ----------------------------------------------------------------------------


def test_budget_cuts_deep_references_to_stubs() -> None:
    big = {f"field{i}": {"type": "string", "description": "x" * 40} for i in range(40)}
    schemas = {
        "Top": {"type": "object", "properties": {"mid": ref("Mid")}},
        "Mid": {"type": "object", "properties": {"deep": ref("Deep"), "n": {"type": "integer"}}},
        "Deep": {"type": ["object", "null"], "properties": big},
    }
    full = convert(ref("Top"), schemas)
    assert full["properties"]["mid"]["properties"]["deep"]["properties"] == big
    cut = convert(ref("Top"), schemas, budget=1000)
    assert cut["properties"]["mid"]["properties"]["deep"] == {"type": ["object", "null"]}


# --- determinism ----------------------------------------------------------------------------


DETERMINISM_SCRIPT = """
import json, sys
from mcpgen.translate.schemas import SchemaConverter
from mcpgen.errors import Report
doc = json.loads(sys.stdin.read())
conv = SchemaConverter(doc, version="3.0", file="f", report=Report())
for direction in ("input", "output"):
    s = conv.session(direction)
    out = s.convert({"$ref": "#/components/schemas/Root"}, "/r")
    print(json.dumps([out, s.defs()]))
"""


def determinism_doc() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        f"N{i}": {
            "type": "object",
            "properties": {f"p{j}": ref(f"N{(i * 7 + j) % 30}") for j in range(3)},
        }
        for i in range(30)
    }
    schemas["Root"] = {
        "allOf": [ref("N1"), ref("N2"), {"properties": {"z": {"$ref": "#/components/schemas/N3"}}}]
    }
    return doc(schemas)


def test_same_input_same_bytes_across_hash_seeds() -> None:
    text = json.dumps(determinism_doc())
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env=env,
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1
    for line in outputs.pop().splitlines():
        fragment, defs = json.loads(line)
        check_schema({**fragment, "$defs": defs})


def test_conversion_does_not_depend_on_earlier_sessions() -> None:
    document = determinism_doc()
    fresh = SchemaConverter(document, version="3.0", file=FILE, report=Report())
    used = SchemaConverter(document, version="3.0", file=FILE, report=Report())
    for i in range(30):
        used.session("output").convert(ref(f"N{i}"), "/w")
    a, b = fresh.session("output"), used.session("output")
    assert json.dumps(a.convert(ref("Root"), "/r")) == json.dumps(b.convert(ref("Root"), "/r"))
    assert json.dumps(a.defs()) == json.dumps(b.defs())


def test_outputs_share_nothing_with_the_document_or_each_other() -> None:
    document = determinism_doc()
    before = json.dumps(document)
    conv = SchemaConverter(document, version="3.0", file=FILE, report=Report())

    def run() -> tuple[str, dict[str, Any], dict[str, Any]]:
        session = conv.session("input")
        out = session.convert(ref("N0"), "/r")
        defs = session.defs()
        return json.dumps([out, defs]), out, defs

    first, out, defs = run()
    for schema in (out, *defs.values()):
        for value in schema.values():
            if isinstance(value, dict | list):
                value.clear()
    assert json.dumps(document) == before
    assert run()[0] == first


# --- python_type ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({}, "Any"),
        ({"type": "string"}, "str"),
        ({"type": "integer"}, "int"),
        ({"type": "number"}, "float"),
        ({"type": "boolean"}, "bool"),
        ({"type": ["string", "null"]}, "str | None"),
        ({"type": "array", "items": {"type": "integer"}}, "list[int]"),
        ({"type": "array", "items": {}}, "list[Any]"),
        ({"type": "object"}, "dict[str, Any]"),
        ({"properties": {"a": {}}}, "dict[str, Any]"),
        ({"type": "string", "enum": ["a", "b"]}, "Literal['a', 'b']"),
        ({"type": ["string", "null"], "enum": ["a", None]}, "Literal['a'] | None"),
        ({"type": "number", "enum": [1.5, 2.5]}, "float"),
        ({"const": "x"}, "Literal['x']"),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, "str | None"),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, "Any"),
        ({"oneOf": [{"type": "object"}, {"properties": {}}]}, "dict[str, Any]"),
        ({"allOf": [{"type": "object"}]}, "dict[str, Any]"),
        ({"type": ["string", "integer"]}, "Any"),
        ({"$ref": "#/$defs/Color"}, "Literal['red'] | None"),
        ({"$ref": "#/$defs/Tree"}, "dict[str, Any]"),
        ({"$ref": "#/$defs/Loop"}, "dict[str, Any]"),
        ({"$ref": "#/$defs/Missing"}, "Any"),
    ],
)
def test_python_type(schema: dict[str, Any], expected: str) -> None:
    defs = {
        "Color": {"type": ["string", "null"], "enum": ["red", None]},
        "Tree": {"type": "object", "properties": {"kids": {"$ref": "#/$defs/Tree"}}},
        "Loop": {"$ref": "#/$defs/Loop"},
    }
    assert python_type(schema, defs) == expected


def test_python_type_of_converted_schemas() -> None:
    conv = converter({"Pet": PET})
    session = conv.session("input")
    fragment = session.convert({"type": "array", "items": ref("Pet"), "nullable": True}, "/x")
    assert python_type(fragment, session.defs()) == "list[dict[str, Any]] | None"


# --- real documents -------------------------------------------------------------------------


METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def corpus_schemas(conv: SchemaConverter, document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every operation's JSON request body and 2xx JSON reply, as whole tool schemas."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            where = join_pointer("/paths", path, method)
            places: list[tuple[Direction, str, Any]] = [
                ("input", "requestBody", operation.get("requestBody"))
            ]
            places += [
                ("output", f"responses/{code}", reply)
                for code, reply in operation.get("responses", {}).items()
                if str(code).startswith("2")
            ]
            for direction, place, node in places:
                if node is None:
                    continue
                session = conv.session(direction)
                target, pointer = session.resolve(node, f"{where}/{place}")
                for media, content in (target.get("content") or {}).items():
                    if "json" in media and "schema" in content:
                        schema_at = join_pointer(pointer, "content", media, "schema")
                        fragment = session.convert(content["schema"], schema_at)
                        defs = session.defs()
                        yield {**fragment, "$defs": defs} if defs else fragment
                        break


CORPUS_FILES = {  # `python scripts/corpus.py fetch` puts them under their package's folder
    "stripe": ("stripe.json", "apis-guru/stripe.com.json"),
    "github": ("github.json", "octokit/api.github.com.json"),
}


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(CORPUS_FILES))
def test_corpus_documents_convert_to_valid_compact_schemas(name: str) -> None:
    found = [CORPUS / p for p in CORPUS_FILES[name] if (CORPUS / p).exists()]
    if not found:
        pytest.skip(f"{name} is not in {CORPUS} (python scripts/corpus.py fetch)")
    path = found[0]
    document = json.loads(path.read_text())
    version: Literal["3.0", "3.1"] = "3.1" if document["openapi"].startswith("3.1") else "3.0"
    started = time.perf_counter()
    conv = SchemaConverter(document, version=version, file=path.name, report=Report())
    schemas = list(corpus_schemas(conv, document))
    seconds = time.perf_counter() - started
    sizes = [len(json.dumps(s, separators=(",", ":"))) for s in schemas]
    print(
        f"{name}: {len(schemas)} schemas in {seconds:.2f} s, "
        f"{sum(sizes) / 1e6:.2f} MB in all, largest {max(sizes) / 1e3:.1f} kB"
    )
    assert seconds < 10
    for schema in schemas:
        check_schema(schema)
