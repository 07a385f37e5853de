"""What agents notice between two generations: the tool summary and its comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcpgen.changes import (
    Change,
    compare,
    render_text,
    summarize,
)
from mcpgen.errors import Report
from mcpgen.load import load_document
from mcpgen.records import TOOLS_PATH, ToolSummary, dump_tools, load_tools
from mcpgen.spec import validate
from mcpgen.translate import TranslateOptions, translate_project


def tool(
    arguments: dict[str, str] | None = None,
    required: tuple[str, ...] = (),
    output: str = "object",
    operation: str = "GET /books",
    hints: str = "read_only",
) -> ToolSummary:
    return ToolSummary(arguments or {}, required, output, operation, hints)


def changes_of(old: ToolSummary, new: ToolSummary) -> list[Change]:
    result = compare({"t": old}, {"t": new})
    assert [c.kind for c in result.tools] in ([], ["changed"])
    return list(result.tools[0].changes) if result.tools else []


def test_added_and_removed_tools() -> None:
    result = compare({"gone": tool(), "kept": tool()}, {"kept": tool(), "new": tool()})
    assert [(c.tool, c.kind, c.breaking) for c in result.tools] == [
        ("gone", "removed", True),
        ("new", "added", False),
    ]
    assert [c.tool for c in result.breaking] == ["gone"]
    assert result.previous
    assert result.count == 2


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (tool({"a": "string"}), tool({}), [Change("argument `a` removed", True)]),
        (
            tool({}),
            tool({"a": "string"}, ("a",)),
            [Change("new required argument `a`", True)],
        ),
        (tool({}), tool({"a": "string"}), [Change("new optional argument `a`", False)]),
        (
            tool({"a": "string"}),
            tool({"a": "string"}, ("a",)),
            [Change("argument `a` is now required", True)],
        ),
        (
            tool({"a": "string"}, ("a",)),
            tool({"a": "string"}),
            [Change("argument `a` is now optional", False)],
        ),
        (
            tool({"a": "integer"}),
            tool({"a": "string"}),
            [Change("argument `a` type changed: integer → string", True)],
        ),
        (
            tool({"a": "integer"}),
            tool({"a": "integer|null"}),
            [Change("argument `a` accepts more: integer → integer|null", False)],
        ),
        (
            tool({"a": "integer"}),
            tool({"a": "number"}),
            [Change("argument `a` accepts more: integer → number", False)],
        ),
        (
            tool({"a": "array<string>"}),
            tool({"a": "array<integer>"}),
            [Change("argument `a` type changed: array<string> → array<integer>", True)],
        ),
        (
            tool(output="object"),
            tool(output="array<object>"),
            [Change("output type changed: object → array<object>", True)],
        ),
        (
            tool(output="null|object"),
            tool(output="object"),
            [Change("output narrowed: null|object → object", False)],
        ),
        (
            tool(output="none"),
            tool(output="object"),
            [Change("now returns structured output (object)", False)],
        ),
        (
            tool(output="object"),
            tool(output="none"),
            [Change("no longer returns structured output (was object)", True)],
        ),
        (
            tool(operation="GET /a"),
            tool(operation="GET /b"),
            [Change("now calls GET /b (was GET /a)", False)],
        ),
        (
            tool(hints="read_only"),
            tool(hints="destructive"),
            [Change("annotations now destructive (were read_only)", False)],
        ),
        (tool({"a": "string"}), tool({"a": "string"}), []),
    ],
)
def test_each_kind_of_change(old: ToolSummary, new: ToolSummary, expected: list[Change]) -> None:
    assert changes_of(old, new) == expected


def test_resources_are_named_as_such_and_a_kind_change_breaks() -> None:
    resource = ToolSummary({}, (), "object", "GET /books", "read_only", kind="resource_template")
    result = compare({"gone": resource, "books": tool()}, {"books": resource, "new": resource})
    assert [(c.tool, c.kind, c.changes) for c in result.tools] == [
        ("books", "changed", (Change("now a resource template (was a tool)", True),)),
        ("gone", "removed", (Change("resource template removed", True),)),
        ("new", "added", (Change("new resource template", False),)),
    ]
    assert resource.to_json()["kind"] == "resource_template"
    assert "kind" not in tool().to_json()


def test_without_a_previous_summary_nothing_is_compared() -> None:
    result = compare(None, {"a": tool()})
    assert not result.previous
    assert result.tools == ()
    assert render_text(result) == ["agents will see 1 tool (no earlier generation to compare)"]


def test_text_report_flags_the_breaking_changes() -> None:
    old = {"get_book": tool({"id": "integer"}), "delete_book": tool()}
    new = {"get_book": tool({"id": "string"}, ("id",)), "list_authors": tool()}
    assert render_text(compare(old, new)) == [
        "agents will notice: 1 added, 1 removed, 1 changed (2 breaking)",
        "  - delete_book   BREAKING: tool removed",
        "  ~ get_book      BREAKING: argument `id` is now required",
        "                  BREAKING: argument `id` type changed: integer → string",
        "  + list_authors  new tool",
    ]
    assert render_text(compare(new, new)) == ["agents will notice no change (2 tools)"]


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Shapes", "version": "1"},
    "paths": {
        "/things": {
            "post": {
                "operationId": "makeThing",
                "parameters": [
                    {"name": "tag", "in": "query", "schema": {"enum": ["a", "b"]}},
                    {"name": "size", "in": "query", "schema": {"type": ["integer", "null"]}},
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["part"],
                                "properties": {
                                    "part": {"$ref": "#/components/schemas/Part"},
                                    "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                                    "parts": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Part"},
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"type": "string"}}
                            }
                        },
                    }
                },
            }
        }
    },
    "components": {
        "schemas": {"Part": {"type": "object", "properties": {"n": {"type": "integer"}}}}
    },
}


def test_summary_of_a_built_tool(tmp_path: Path) -> None:
    (tmp_path / "openapi.json").write_text(json.dumps(SPEC))
    spec = validate(load_document(tmp_path / "openapi.json"))
    summaries = summarize(translate_project(spec, TranslateOptions(), Report()))
    assert summaries["make_thing"].to_json() == {
        "arguments": {
            "either": "integer|string",
            "part": "object",
            "parts": "array<object>",
            "size": "integer|null",
            "tag": "string",
        },
        "hints": "open_world",
        "operation": "POST /things",
        "output": "array<string>",
        "required": ["part"],
    }


def test_summaries_round_trip_and_serialise_stably(tmp_path: Path) -> None:
    summaries = {"b": tool({"z": "string", "a": "integer"}, ("z", "a")), "a": tool()}
    data = dump_tools(summaries)
    assert data == dump_tools(dict(reversed(summaries.items())))
    assert data.endswith(b"}\n")
    assert list(json.loads(data)["tools"]) == ["a", "b"]
    (tmp_path / ".mcpgen").mkdir()
    (tmp_path / TOOLS_PATH).write_bytes(data)
    loaded, problem = load_tools(tmp_path)
    assert problem is None
    assert loaded is not None
    assert dump_tools(loaded) == data
    assert compare(loaded, summaries).tools == ()


@pytest.mark.parametrize(
    "content", [b"{", b"[]", b'{"format": 1}', b'{"format": 1, "tools": {"a": 1}}', b"\xff"]
)
def test_an_unusable_summary_is_reported_not_fatal(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / TOOLS_PATH
    path.parent.mkdir()
    path.write_bytes(content)
    loaded, problem = load_tools(tmp_path)
    assert loaded is None
    assert problem is not None
    assert (problem.level, problem.code, problem.file) == ("warning", "tools-record", str(path))
    assert "agent-facing changes are not known" in problem.message
    assert problem.line == (1 if content == b"{" else None)
    path.unlink()
    assert load_tools(tmp_path) == (None, None)
