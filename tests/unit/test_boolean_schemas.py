"""Boolean schemas (`true` / `false`): accepted wherever OpenAPI 3.1 allows a schema, refused
in 3.0 with a located error, and carried into tool schemas, Python types, samples and models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mcpgen.changes import compare, summarize
from mcpgen.errors import McpgenError, Report
from mcpgen.ir import Project, Tool
from mcpgen.mapping import Mapping
from mcpgen.models import generate_models, models_source
from mcpgen.pipeline import load_spec
from mcpgen.spec import Spec
from mcpgen.translate import TranslateOptions, translate_project
from mcpgen.translate.outline import outline
from mcpgen.translate.samples import sample
from mcpgen.translate.schemas import SchemaConverter, accepts_nothing, python_type

OK = {"description": "ok"}


# How the portable profile spells a schema that accepts any value (`{}`).
ANY = {"anyOf": [{"type": t} for t in ("object", "array", "string", "number", "boolean", "null")]}


def document(
    paths: dict[str, Any] | None = None,
    schemas: dict[str, Any] | None = None,
    version: str = "3.1.0",
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": version,
        "info": {"title": "Bools", "version": "1"},
        "servers": [{"url": "http://127.0.0.1:9/api"}],
        "paths": paths or {},
    }
    if schemas is not None:
        doc["components"] = {"schemas": schemas}
    return doc


def load(tmp_path: Path, doc: dict[str, Any]) -> Spec:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(doc, indent=1))
    return load_spec(path)


def translate(
    tmp_path: Path, doc: dict[str, Any], report: Report | None = None, **options: Any
) -> Project:
    return translate_project(load(tmp_path, doc), TranslateOptions(**options), report or Report())


def body_tool(
    tmp_path: Path,
    schema: Any,
    *,
    required: bool = True,
    schemas: dict[str, Any] | None = None,
    report: Report | None = None,
) -> Tool:
    """The tool of `POST /things` whose JSON request body has `schema`."""
    operation = {
        "operationId": "makeThing",
        "requestBody": {"required": required, "content": {"application/json": {"schema": schema}}},
        "responses": {"204": OK},
    }
    project = translate(tmp_path, document({"/things": {"post": operation}}, schemas), report)
    (tool,) = project.tools
    return tool


def reply_tool(tmp_path: Path, schema: Any) -> Tool:
    """The tool of `GET /things` whose JSON reply has `schema`."""
    reply = {**OK, "content": {"application/json": {"schema": schema}}}
    operation = {"operationId": "getThing", "responses": {"200": reply}}
    (tool,) = translate(tmp_path, document({"/things": {"get": operation}})).tools
    return tool


def argument(tool: Tool, name: str) -> Any:
    return tool.input_schema["properties"][name]


# --- validation -----------------------------------------------------------------------------


def positions(value: bool) -> dict[str, Any]:
    """One component schema per keyword that takes a schema, with `value` in that place."""
    return {
        "items": {"type": "array", "items": value},
        "prefixItems": {"type": "array", "prefixItems": [value]},
        "properties": {"type": "object", "properties": {"a": value}},
        "patternProperties": {"type": "object", "patternProperties": {"^a": value}},
        "additionalProperties": {"type": "object", "additionalProperties": value},
        "unevaluatedProperties": {"type": "object", "unevaluatedProperties": value},
        "unevaluatedItems": {"type": "array", "unevaluatedItems": value},
        "contains": {"type": "array", "contains": value},
        "propertyNames": {"type": "object", "propertyNames": value},
        "not": {"not": value},
        "if": {"if": value, "then": value, "else": value},
        "dependentSchemas": {"type": "object", "dependentSchemas": {"a": value}},
        "allOf": {"allOf": [value, {"type": "string"}]},
        "anyOf": {"anyOf": [value, {"type": "string"}]},
        "oneOf": {"oneOf": [value, {"type": "string"}]},
        "defs": {"$defs": {"x": value}, "$ref": "#/components/schemas/defs/$defs/x"},
        "component": value,  # a whole components/schemas entry
    }


def operations(value: bool) -> dict[str, Any]:
    """Boolean schemas in every place outside a schema: parameter, header, media types."""
    media = {"application/json": {"schema": value}}
    header = {"schema": value}
    return {
        "/things/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": value}],
            "post": {
                "parameters": [
                    {"name": "q", "in": "query", "schema": value},
                    {
                        "name": "c",
                        "in": "query",
                        "content": {"application/json": {"schema": value}},
                    },
                    {"name": "X-H", "in": "header", "schema": value},
                ],
                "requestBody": {
                    "content": {
                        "application/json": {"schema": value},
                        "multipart/form-data": {
                            "schema": value,
                            "encoding": {"a": {"headers": {"X-Part": header}}},
                        },
                    }
                },
                "responses": {"200": {**OK, "headers": {"X-Rate": header}, "content": media}},
                "callbacks": {
                    "done": {
                        "{$request.body#/url}": {
                            "post": {"requestBody": {"content": media}, "responses": {"200": OK}}
                        }
                    }
                },
            },
        }
    }


@pytest.mark.parametrize("value", [True, False])
def test_31_accepts_boolean_schemas_everywhere(tmp_path: Path, value: bool) -> None:
    doc = document(operations(value), positions(value))
    doc["webhooks"] = {
        "ping": {"post": {"requestBody": {"content": {"text/plain": {"schema": value}}}}}
    }
    doc["components"].update(
        parameters={"P": {"name": "p", "in": "query", "schema": value}},
        headers={"H": {"schema": value}},
        requestBodies={"B": {"content": {"application/json": {"schema": value}}}},
        responses={"R": {**OK, "content": {"application/json": {"schema": value}}}},
    )
    spec = load(tmp_path, doc)
    assert spec.version == "3.1"
    # The document keeps its booleans: they are what the converter reads.
    assert spec.data == json.loads((tmp_path / "openapi.json").read_text())
    assert spec.data["components"]["schemas"]["items"]["items"] is value


def test_31_other_problems_are_still_reported(tmp_path: Path) -> None:
    paths = operations(True)
    paths["/things/{id}"]["post"]["parameters"][0]["in"] = "body"
    with pytest.raises(McpgenError) as caught:
        load(tmp_path, document(paths, positions(False)))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.pointer == "/paths/~1things~1{id}/post/parameters/0/in"
    assert "'query', 'header', 'path' or 'cookie'" in diagnostic.message


REFUSED_30 = {
    "items": "/components/schemas/items/items",
    "properties": "/components/schemas/properties/properties/a",
    "not": "/components/schemas/not/not",
    "allOf": "/components/schemas/allOf/allOf/0",
    "anyOf": "/components/schemas/anyOf/anyOf/0",
    "oneOf": "/components/schemas/oneOf/oneOf/0",
    "component": "/components/schemas/component",
}


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize("keyword", sorted(REFUSED_30))
def test_30_refuses_boolean_schemas_with_a_located_error(
    tmp_path: Path, keyword: str, value: bool
) -> None:
    doc = document({}, {keyword: positions(value)[keyword]}, version="3.0.3")
    with pytest.raises(McpgenError) as caught:
        load(tmp_path, doc)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "boolean-schema"
    assert diagnostic.pointer == REFUSED_30[keyword]
    assert diagnostic.line is not None and diagnostic.file is not None
    spelled = "`{}`" if value else "`{not: {}}`"
    assert f"`{str(value).lower()}` as a schema needs OpenAPI 3.1" in diagnostic.message
    assert f"write {spelled} instead" in diagnostic.message


def test_30_refuses_boolean_schemas_outside_components_each_located(tmp_path: Path) -> None:
    with pytest.raises(McpgenError) as caught:
        load(tmp_path, document(operations(False), version="3.0.3"))
    post = "/paths/~1things~1{id}/post"
    assert [d.pointer for d in caught.value.diagnostics] == [
        "/paths/~1things~1{id}/parameters/0/schema",
        f"{post}/parameters/0/schema",
        f"{post}/parameters/1/content/application~1json/schema",
        f"{post}/parameters/2/schema",
        f"{post}/requestBody/content/application~1json/schema",
        f"{post}/requestBody/content/multipart~1form-data/schema",
        f"{post}/requestBody/content/multipart~1form-data/encoding/a/headers/X-Part/schema",
        f"{post}/responses/200/headers/X-Rate/schema",
        f"{post}/responses/200/content/application~1json/schema",
        f"{post}/callbacks/done/{{$request.body#~1url}}/post/requestBody/content/application~1json/schema",
    ]
    assert {d.code for d in caught.value.diagnostics} == {"boolean-schema"}


def test_30_reports_boolean_schemas_with_the_other_problems(tmp_path: Path) -> None:
    paths = operations(True)
    paths["/things/{id}"]["post"]["parameters"][0]["in"] = "body"
    doc = document(paths, {"A": {"type": "array", "items": True}}, version="3.0.3")
    with pytest.raises(McpgenError) as caught:
        load(tmp_path, doc)
    found = [(d.code, d.pointer) for d in caught.value.diagnostics]
    assert ("invalid", "/paths/~1things~1{id}/post/parameters/0/in") in found
    assert ("boolean-schema", "/components/schemas/A/items") in found
    lines = [d.line or 0 for d in caught.value.diagnostics]
    assert lines == sorted(lines)


def test_30_keeps_accepting_what_it_accepted(tmp_path: Path) -> None:
    """`additionalProperties` may be boolean in 3.0; keywords that 3.0 does not have, and the
    siblings of a `$ref`, were never checked there and are still not."""
    schemas = {
        "Closed": {"type": "object", "additionalProperties": False},
        "Open": {"type": "object", "additionalProperties": True},
        "Tuple": {"type": "array", "items": {}, "prefixItems": [True]},
        "Alias": {"$ref": "#/components/schemas/Open", "items": True},
    }
    spec = load(tmp_path, document({}, schemas, version="3.0.3"))
    assert spec.version == "3.0"


# --- tool input schemas ---------------------------------------------------------------------


def test_boolean_properties_and_items_in_a_flattened_body(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "required": ["anything"],
        "properties": {
            "anything": True,
            "never": False,
            "empty": {"type": "array", "items": False},
            "loose": {"type": "array", "items": True},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, True], "items": False},
            "closed": {"type": "object", "additionalProperties": False},
            "open": {"type": "object", "additionalProperties": True},
        },
    }
    tool = body_tool(tmp_path, schema)
    assert tool.input_schema == {
        "type": "object",
        "properties": {
            "anything": True,
            "empty": {"type": "array", "items": False},
            "loose": {"type": "array", "items": True},
            "pair": {"type": "array", "items": False, "prefixItems": [{"type": "string"}, True]},
            "closed": {"type": "object", "additionalProperties": False},
            "open": {"type": "object", "additionalProperties": True},
        },
        "required": ["anything"],
        "additionalProperties": False,
    }
    assert "never" not in {p.arg for p in tool.params}, "a `false` property is never sent"
    validator = Draft202012Validator(tool.input_schema)
    assert validator.is_valid({"anything": [1, {"x": None}], "empty": []})
    assert not validator.is_valid({"anything": 1, "never": 1})
    assert not validator.is_valid({"anything": 1, "empty": [1]})
    assert not validator.is_valid({"anything": 1, "pair": ["a", 2, 3]})
    assert not validator.is_valid({"anything": 1, "closed": {"a": 1}})


def test_a_required_false_argument_is_kept_and_warned_about(tmp_path: Path) -> None:
    report = Report()
    schema = {"type": "object", "required": ["never"], "properties": {"never": False, "a": {}}}
    tool = body_tool(tmp_path, schema, report=report)
    assert argument(tool, "never") is False
    assert tool.input_schema["required"] == ["never"]
    assert tool.sample is None, "no call of this tool is valid"
    (warning,) = [w for w in report.warnings if w.code == "schema-false"]
    assert "required argument 'never' accepts no value" in warning.message
    assert warning.pointer == "/paths/~1things/post/requestBody"


def test_false_parameters(tmp_path: Path) -> None:
    report = Report()
    operation = {
        "operationId": "listThings",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": False},
            {"name": "q", "in": "query", "schema": False},
            {"name": "all", "in": "query", "schema": True},
        ],
        "responses": {"204": OK},
    }
    doc = document({"/things/{id}": {"get": operation}})
    (tool,) = translate(tmp_path, doc, report).tools
    assert tool.input_schema["properties"] == {"id": {"not": {}}, "all": ANY}
    assert [(p.arg, p.py_type) for p in tool.params] == [("id", "Any"), ("all", "Any")]
    assert [w.pointer for w in report.warnings if w.code == "schema-false"] == [
        "/paths/~1things~1{id}/get/parameters/0"
    ]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (True, ANY),
        (False, {"not": {}}),
    ],
)
def test_a_boolean_media_type_schema_is_one_body_argument(
    tmp_path: Path, schema: bool, expected: dict[str, Any]
) -> None:
    tool = body_tool(tmp_path, schema, required=False)
    assert tool.input_schema["properties"] == {"body": expected}
    assert tool.body is not None and not tool.body.flattened
    assert (tool.body.arg, tool.body.py_type) == ("body", "Any")


# Each keyword that takes a schema, as a property of a body: (property schema, its tool form).
KEYWORDS: dict[str, tuple[Any, Any]] = {
    "unevaluatedProperties alone is additionalProperties": (
        {"type": "object", "properties": {"a": {}}, "unevaluatedProperties": False},
        {"type": "object", "properties": {"a": ANY}, "additionalProperties": False},
    ),
    "unevaluatedProperties beside anyOf": (
        {"anyOf": [{"properties": {"a": {}}}, False], "unevaluatedProperties": False},
        {
            "type": "object",  # the portable profile: object keywords give the object type
            "anyOf": [{"properties": {"a": ANY}}, False],
            "unevaluatedProperties": False,
        },
    ),
    "unevaluatedProperties after a merged allOf": (
        {"allOf": [{"$ref": "#/components/schemas/Base"}], "unevaluatedProperties": False},
        {"type": "object", "properties": {"a": ANY}, "additionalProperties": False},
    ),
    "unevaluatedProperties beside additionalProperties": (
        {"type": "object", "additionalProperties": True, "unevaluatedProperties": False},
        {"type": "object", "additionalProperties": True},
    ),
    "unevaluatedItems after prefixItems is items": (
        {"type": "array", "prefixItems": [True], "unevaluatedItems": False},
        {"type": "array", "items": False, "prefixItems": [True]},
    ),
    "unevaluatedItems beside contains": (
        {"type": "array", "contains": {"type": "string"}, "unevaluatedItems": False},
        {"type": "array", "unevaluatedItems": False, "contains": {"type": "string"}},
    ),
    "contains": (
        {"type": "array", "contains": False},
        {"type": "array", "items": ANY, "contains": False},
    ),
    "propertyNames": (
        {"type": "object", "propertyNames": False},
        {"type": "object", "propertyNames": False},
    ),
    "patternProperties": (
        {"type": "object", "patternProperties": {"^x-": False}},
        {"type": "object", "patternProperties": {"^x-": False}},
    ),
    "not": ({"not": False}, {"not": False}),
    "if then else": (
        {"if": True, "then": {"type": "string"}, "else": False},
        {"if": True, "then": {"type": "string"}, "else": False},
    ),
    "dependentSchemas": (
        {"type": "object", "dependentSchemas": {"a": False}},
        {"type": "object", "dependentSchemas": {"a": False}},
    ),
    "allOf true member": ({"allOf": [True, {"type": "string"}]}, {"type": "string"}),
    "allOf false member": (
        {"allOf": [False, {"type": "string"}]},
        {"allOf": [False, {"type": "string"}]},
    ),
    "anyOf": ({"anyOf": [False, {"type": "string"}]}, {"anyOf": [False, {"type": "string"}]}),
    "oneOf": ({"oneOf": [True, {"type": "string"}]}, {"oneOf": [True, {"type": "string"}]}),
    "$defs entry": ({"$ref": "#/components/schemas/Holder/$defs/anything"}, True),
    "component": ({"$ref": "#/components/schemas/Anything"}, True),
    "component with a description": (
        {"$ref": "#/components/schemas/Nothing", "description": "Gone."},
        {"description": "Gone.", "not": {}},
    ),
}
COMPONENTS = {
    "Base": {"type": "object", "properties": {"a": {}}},
    "Holder": {"$defs": {"anything": True}},
    "Anything": True,
    "Nothing": False,
}


@pytest.mark.parametrize("case", sorted(KEYWORDS))
def test_each_keyword_keeps_its_boolean_subschemas(tmp_path: Path, case: str) -> None:
    given, expected = KEYWORDS[case]
    schema = {"type": "object", "required": ["x"], "properties": {"x": given}}
    tool = body_tool(tmp_path, schema, schemas=COMPONENTS)
    assert argument(tool, "x") == expected
    Draft202012Validator.check_schema(tool.input_schema)


def test_a_flattened_body_keeps_what_separate_arguments_cannot_say(tmp_path: Path) -> None:
    cases: list[tuple[str, Any]] = [
        ("dependentSchemas", {"a": False}),
        ("unevaluatedProperties", False),
    ]
    for keyword, value in cases:
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {"a": {}},
            keyword: value,
            "anyOf": [True],
        }
        tool = body_tool(tmp_path, schema)
        assert tool.body is not None and not tool.body.flattened
        assert argument(tool, "body")[keyword] == value


def test_the_budget_cut_leaves_unevaluated_keywords_out() -> None:
    """A stub evaluates no properties: beside one, `unevaluatedProperties: false` would refuse
    what the full schema accepts."""
    big = {f"f{i}": {"type": "string", "description": "x" * 200} for i in range(20)}
    doc = document({}, {"Big": {"type": "object", "properties": big}})
    node = {"anyOf": [{"$ref": "#/components/schemas/Big"}], "unevaluatedProperties": False}
    for budget, kept in ((10**9, True), (500, False)):
        converter = SchemaConverter(doc, version="3.1", file="f", report=Report(), budget=budget)
        session = converter.session("input")
        out = session.convert(node, "/x")
        assert ("unevaluatedProperties" in out) is kept
        schema = {**out, "$defs": session.defs()}
        assert Draft202012Validator(schema).is_valid({"f0": "a", "f19": "b"})


# --- outputs --------------------------------------------------------------------------------


def test_output_outlines_keep_boolean_subschemas(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {
            "gone": False,
            "any": True,
            "none": {"type": "array", "items": False},
            "closed": {"type": "object", "properties": {"a": {}}, "additionalProperties": False},
            "named": {
                "type": "object",
                "patternProperties": {"^x-": {}},
                "additionalProperties": False,
            },
            "evaluated": {"anyOf": [{"properties": {"a": {}}}], "unevaluatedProperties": False},
        },
    }
    tool = reply_tool(tmp_path, schema)
    assert tool.output_schema == {
        "type": "object",
        "properties": {
            "gone": False,
            "any": True,
            "none": {"type": "array", "items": False},
            "closed": {"type": "object", "properties": {"a": ANY}, "additionalProperties": False},
            "named": {"type": "object"},
            "evaluated": {"type": "object", "properties": {"a": ANY}},
        },
    }
    validator = Draft202012Validator(tool.output_schema)
    assert validator.is_valid({"any": 1, "none": [], "named": {"x-a": 1}, "evaluated": {"a": 1}})
    assert not validator.is_valid({"gone": 1})
    assert not validator.is_valid({"none": [1]})
    assert not validator.is_valid({"closed": {"b": 1}})
    assert tool.sample is not None and tool.sample.reply == {}


@pytest.mark.parametrize(("schema", "result"), [(True, ANY), (False, ANY)])
def test_a_boolean_reply_schema_is_wrapped(tmp_path: Path, schema: bool, result: Any) -> None:
    tool = reply_tool(tmp_path, schema)
    assert tool.output_wrapped
    assert tool.output_schema == {
        "type": "object",
        "properties": {"result": result},
        "required": ["result"],
    }


def test_outline_leaves_out_what_it_cannot_keep_exactly() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {}},
        "patternProperties": {"^x-": {}},
        "additionalProperties": False,
        "unevaluatedProperties": False,
    }
    assert outline(schema, {}) == ({"type": "object", "properties": {"a": {}}}, {})


# --- Python types and samples ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (True, "Any"),
        (False, "Any"),
        ({"type": "array", "items": False}, "list[Any]"),
        ({"anyOf": [False, {"type": "string"}]}, "str"),
        ({"oneOf": [{"not": {}}, {"type": "integer"}, {"type": "null"}]}, "int | None"),
        ({"anyOf": [True, {"type": "string"}]}, "Any"),
        ({"unevaluatedProperties": False}, "dict[str, Any]"),
    ],
)
def test_python_types_of_boolean_schemas(schema: Any, expected: str) -> None:
    assert python_type(schema, {}) == expected


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "array", "items": False}, []),
        ({"anyOf": [False, {"type": "integer"}]}, 1),
        ({"oneOf": [{"not": {}}, {"type": "string", "minLength": 2}]}, "xx"),
        ({"type": "object", "required": ["a"], "properties": {"a": True}}, {"a": "sample"}),
        ({"type": "object", "required": ["a"], "properties": {"a": False}}, None),
        ({"type": "object", "required": ["a"], "additionalProperties": False}, None),
        (
            {"type": "object", "required": ["a"], "additionalProperties": {"type": "integer"}},
            {"a": 1},
        ),
        ({"allOf": [False]}, None),
    ],
)
def test_samples_of_boolean_schemas(schema: dict[str, Any], expected: Any) -> None:
    assert sample(schema, {}) == expected


def test_accepts_nothing() -> None:
    assert accepts_nothing(False)
    assert accepts_nothing({"not": {}})
    assert accepts_nothing({"not": True, "description": "x"})
    assert accepts_nothing({"allOf": [{"type": "string"}, False]})
    assert not accepts_nothing(True)
    assert not accepts_nothing({})
    assert not accepts_nothing({"not": {"type": "string"}})
    assert not accepts_nothing({"anyOf": [False, True]})


# --- mapping overrides, change reports, models ----------------------------------------------


def test_overrides_on_boolean_arguments(tmp_path: Path) -> None:
    schema = {"type": "object", "required": ["never"], "properties": {"a": True, "never": False}}
    reply = {"type": "object", "properties": {"a": True, "b": False, "c": {}}}
    operation = {
        "operationId": "makeThing",
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": {"200": {**OK, "content": {"application/json": {"schema": reply}}}},
    }
    mapping = Mapping.model_validate(
        {
            "operations": {
                "makeThing": {
                    "arguments": {
                        "a": {"description": "Anything."},
                        "never": {"description": "Nothing."},
                    },
                    "keep_fields": ["a", "b"],
                }
            }
        }
    )
    doc = document({"/things": {"post": operation}})
    (tool,) = translate(tmp_path, doc, mapping=mapping).tools
    assert argument(tool, "a") == {"description": "Anything."}
    assert argument(tool, "never") == {"description": "Nothing.", "not": {}}
    assert tool.output_schema == {"type": "object", "properties": {"a": True, "b": False}}


def test_a_property_becoming_false_is_a_reported_change(tmp_path: Path) -> None:
    def project(value: bool) -> Project:
        schema = {"type": "object", "required": ["a"], "properties": {"a": value}}
        operation = {
            "operationId": "makeThing",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            },
            "responses": {"204": OK},
        }
        return translate(tmp_path, document({"/things": {"post": operation}}))

    closed = compare(summarize(project(True)), summarize(project(False)))
    (tool,) = closed.tools
    assert [(c.reason, c.breaking) for c in tool.changes] == [
        ("argument `a` type changed: any → never", True)
    ]
    opened = compare(summarize(project(False)), summarize(project(True)))
    assert [(c.reason, c.breaking) for c in opened.tools[0].changes] == [
        ("argument `a` accepts more: never → any", False)
    ]


def test_models_of_boolean_schemas(tmp_path: Path) -> None:
    schemas = {
        "Thing": {
            "type": "object",
            "properties": {"a": True, "b": False, "c": {"type": "array", "items": False}},
            "additionalProperties": False,
        },
        "Anything": True,
    }
    report = Report()
    source = generate_models(models_source(document({}, schemas)), report, "openapi.json")
    assert "class Thing(BaseModel):" in source
    assert "extra='forbid'" in source
    assert report.warnings == []


def test_models_that_cannot_be_made_leave_a_warning_not_a_crash() -> None:
    report = Report()
    schemas = {"Impossible": {"allOf": [False, {"type": "string"}]}}
    source = generate_models(models_source(document({}, schemas)), report, "openapi.json")
    assert "class " not in source
    (warning,) = report.warnings
    assert warning.code == "models-skipped"
    assert "boolean false" in warning.message
