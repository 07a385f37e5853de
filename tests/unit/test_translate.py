"""IR building on tiny inline specs: arguments, bodies, outputs, annotations, names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcpgen.errors import Report
from mcpgen.ir import Project, Tool
from mcpgen.pipeline import load_spec
from mcpgen.translate import TranslateOptions, translate_project

ROOT = Path(__file__).resolve().parents[2]


def translate(tmp_path: Path, paths: dict[str, Any], **extra: Any) -> Project:
    document = {"openapi": "3.1.0", "info": {"title": "Tiny API", "version": "1"}, "paths": paths}
    document.update(extra)
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    return translate_project(load_spec(tmp_path / "openapi.json"), TranslateOptions(), Report())


def tool(project: Project, name: str) -> Tool:
    return next(t for t in project.tools if t.name == name)


def test_bookshop_tools_and_arguments() -> None:
    project = translate_project(
        load_spec(ROOT / "specs/bookshop/openapi.yaml"), TranslateOptions(name="bookshop"), Report()
    )
    assert [t.name for t in project.tools] == [
        "list_books",
        "create_book",
        "get_book",
        "replace_book",
        "delete_book",
        "add_review",
        "get_authors_by_author_id_books",
        "get_category",
    ]
    create = tool(project, "create_book")
    assert create.body is not None and create.body.flattened
    assert list(create.input_schema["properties"]) == [
        "title",
        "author_id",
        "genre",
        "tags",
        "published",
    ]
    assert create.input_schema["required"] == ["title", "author_id"]
    assert "id" not in create.input_schema["properties"], "readOnly stays out of inputs"
    assert create.output_schema is not None and "id" in create.output_schema["properties"]
    listing = tool(project, "list_books")
    fields = next(p for p in listing.params if p.arg == "fields")
    assert (fields.location, fields.style, fields.explode) == ("query", "form", False)
    header = next(p for p in listing.params if p.location == "header")
    assert (header.arg, header.py_name, header.wire) == (
        "X-Request-Id",
        "x_request_id",
        "X-Request-Id",
    )
    assert project.base_url == "http://127.0.0.1:8000/v1"
    assert [s.credentials[0].env for s in project.security] == ["UPSTREAM_API_KEY"]


def test_annotations_follow_the_method(tmp_path: Path) -> None:
    ok = {"responses": {"204": {"description": "ok"}}}
    project = translate(
        tmp_path, {"/x": dict.fromkeys(("get", "put", "post", "patch", "delete"), ok)}
    )
    hints = {
        t.method: (t.annotations.read_only, t.annotations.destructive, t.annotations.idempotent)
        for t in project.tools
    }
    assert hints == {
        "GET": (True, False, True),
        "PUT": (False, False, True),
        "POST": (False, False, False),
        "PATCH": (False, False, False),
        "DELETE": (False, True, True),
    }


def test_clashing_parameter_names_get_location_suffixes(tmp_path: Path) -> None:
    op = {
        "operationId": "getThing",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "id", "in": "query", "schema": {"type": "integer"}},
        ],
        "responses": {"204": {"description": "ok"}},
    }
    project = translate(tmp_path, {"/things/{id}": {"get": op}})
    args = [(p.arg, p.location) for p in project.tools[0].params]
    assert args == [("id__path", "path"), ("id__query", "query")]
    assert project.tools[0].input_schema["required"] == ["id__path"]


def test_a_body_property_clashing_with_a_parameter_gets_suffixes(tmp_path: Path) -> None:
    op = {
        "operationId": "putThing",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["id"],
                        "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                    }
                }
            },
        },
        "responses": {"204": {"description": "ok"}},
    }
    project = translate(tmp_path, {"/things/{id}": {"put": op}})
    only = project.tools[0]
    assert only.body is not None and only.body.flattened
    assert [(p.arg, p.wire, p.location) for p in only.params] == [
        ("id__path", "id", "path"),
        ("id__body", "id", "body"),
        ("name", "name", "body"),
    ]
    assert only.input_schema["required"] == ["id__path", "id__body"]


def test_a_non_object_body_is_one_argument(tmp_path: Path) -> None:
    op = {
        "operationId": "putTags",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"type": "string"}}}
            },
        },
        "responses": {"204": {"description": "ok"}},
    }
    only = translate(tmp_path, {"/tags": {"put": op}}).tools[0]
    assert only.body is not None and not only.body.flattened and only.body.arg == "body"
    assert only.input_schema["required"] == ["body"]


def test_array_replies_are_wrapped_in_an_object(tmp_path: Path) -> None:
    reply = {"type": "array", "items": {"type": "string"}}
    op = {
        "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": reply}}}
        }
    }
    project = translate(tmp_path, {"/names": {"get": op}})
    only = project.tools[0]
    assert only.name == "get_names"
    assert only.output_wrapped
    assert only.output_schema == {
        "type": "object",
        "properties": {"result": reply},
        "required": ["result"],
    }


def test_ignored_headers_and_security_alternatives(tmp_path: Path) -> None:
    op = {
        "operationId": "ping",
        "security": [{"key": []}, {"basic": [], "key": []}],
        "parameters": [
            {"name": "Accept", "in": "header", "schema": {"type": "string"}},
            {"name": "Authorization", "in": "header", "schema": {"type": "string"}},
        ],
        "responses": {"204": {"description": "ok"}},
    }
    schemes = {
        "key": {"type": "apiKey", "in": "query", "name": "api_key"},
        "basic": {"type": "http", "scheme": "basic"},
    }
    project = translate(tmp_path, {"/ping": {"get": op}}, components={"securitySchemes": schemes})
    only = project.tools[0]
    assert only.params == ()
    assert only.security == (("key",), ("basic", "key"))
    envs = {s.key: [c.env for c in s.credentials] for s in project.security}
    assert envs == {
        "basic": ["UPSTREAM_BASIC_USERNAME", "UPSTREAM_BASIC_PASSWORD"],
        "key": ["UPSTREAM_KEY"],
    }


def test_parameters_a_security_scheme_fills_are_not_arguments(tmp_path: Path) -> None:
    """A caller's value must never stand in for (or be sent beside) the credential."""
    op = {
        "operationId": "search",
        "security": [{"header": []}, {"query": [], "cookie": []}],
        "parameters": [
            {"name": "x-api-key", "in": "header", "schema": {"type": "string"}},
            {"name": "api_key", "in": "query", "schema": {"type": "string"}},
            {"name": "sid", "in": "cookie", "schema": {"type": "string"}},
            {"name": "sid", "in": "query", "schema": {"type": "string"}},
            {"name": "q", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {"204": {"description": "ok"}},
    }
    schemes = {
        "header": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "query": {"type": "apiKey", "in": "query", "name": "api_key"},
        "cookie": {"type": "apiKey", "in": "cookie", "name": "sid"},
        "unused": {"type": "apiKey", "in": "query", "name": "q"},
    }
    (tmp_path / "openapi.json").write_text(
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": "Tiny API", "version": "1"},
                "paths": {"/search": {"get": op}},
                "components": {"securitySchemes": schemes},
            }
        )
    )
    report = Report()
    project = translate_project(load_spec(tmp_path / "openapi.json"), TranslateOptions(), report)
    assert [(p.location, p.wire) for p in project.tools[0].params] == [
        ("query", "sid"),
        ("query", "q"),
    ]
    warned = sorted(d.pointer or "" for d in report.warnings if d.code == "param-from-security")
    assert warned == [f"/paths/~1search/get/parameters/{i}" for i in range(3)]


def test_building_twice_gives_the_same_ir(tmp_path: Path) -> None:
    spec = load_spec(ROOT / "specs/tasks/openapi.json")
    first = translate_project(spec, TranslateOptions(), Report()).model_dump_json()
    second = translate_project(spec, TranslateOptions(), Report()).model_dump_json()
    assert first == second


@pytest.mark.parametrize("spec", ["bookshop/openapi.yaml", "tasks/openapi.json"])
def test_every_example_tool_has_a_sample(spec: str) -> None:
    project = translate_project(load_spec(ROOT / "specs" / spec), TranslateOptions(), Report())
    assert all(t.sample is not None for t in project.tools)


def test_extensions_in_paths_are_not_operations(tmp_path: Path) -> None:
    ok = {"operationId": "ping", "responses": {"204": {"description": "ok"}}}
    project = translate(
        tmp_path,
        {"/ping": {"get": ok}, "x-context-root": "/api", "x-more": {"get": ok}},
    )
    assert [t.name for t in project.tools] == ["ping"]
