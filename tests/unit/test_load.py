from __future__ import annotations

from pathlib import Path

import pytest

from mcpgen.errors import Diagnostic, Level, McpgenError, Report
from mcpgen.load import load_document


def test_relative_file_refs_are_bundled_as_local_pointers(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "openapi.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components:\n  schemas:\n    Pet:\n      $ref: 'schemas/pet.yaml#/Pet'\n"
    )
    (tmp_path / "schemas" / "pet.yaml").write_text(
        "Pet:\n  type: object\n  properties:\n    owner: {$ref: '#/Owner'}\n"
        "    back: {$ref: '../openapi.yaml#/components/schemas/Pet'}\n"
        "Owner: {type: string}\n"
    )
    data = load_document(tmp_path / "openapi.yaml").data
    assert data["components"]["schemas"]["Pet"] == {"$ref": "#/x-mcpgen-bundled/0/Pet"}
    pet = data["x-mcpgen-bundled"]["0"]["Pet"]
    assert pet["properties"]["owner"] == {"$ref": "#/x-mcpgen-bundled/0/Owner"}
    assert pet["properties"]["back"] == {"$ref": "#/components/schemas/Pet"}


@pytest.mark.parametrize(
    "key", ['"$ref"', '"\\u0024ref"', "$ref"], ids=["plain", "escaped", "bare"]
)
def test_refs_to_files_are_found_however_they_are_spelt(tmp_path: Path, key: str) -> None:
    (tmp_path / "pet.yaml").write_text("Pet: {type: string}\n")
    (tmp_path / "openapi.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
        f"components:\n  schemas:\n    Pet:\n      {key}:\n        pet.yaml#/Pet\n"
    )
    data = load_document(tmp_path / "openapi.yaml").data
    assert data["components"]["schemas"]["Pet"] == {"$ref": "#/x-mcpgen-bundled/0/Pet"}


def test_lines_of_pointers_in_yaml_and_json(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("openapi: 3.0.3\npaths:\n  /x:\n    get:\n      summary: s\n")
    source = load_document(tmp_path / "a.yaml")
    assert source.line_of("/paths/~1x/get/summary") == 5
    assert source.line_of("/paths/~1x/get/nothing/here") == 4
    (tmp_path / "a.json").write_text(
        '{\n "openapi": "3.1.0",\n "paths": {\n  "/x": {"get": {}}\n }\n}\n'
    )
    source = load_document(tmp_path / "a.json")
    assert source.line_of("/paths/~1x/get") == 4
    assert source.line_of("/openapi") == 2


def test_lines_of_pointers_in_json_are_found_on_demand(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(
        '{"openapi": "3.1.0",\n'
        ' "paths": {\n'
        '  "/a~b": {"get": {"tags": ["x",\n'
        '                          "y"],\n'
        '   "parameters": [\n'
        '     {"name": "q\\"{[", "in": "query"},\n'
        "     {\n"
        '      "name": "r", "in": "query"}]}},\n'
        '  "/a~b": {"put": {}}\n'
        " },\n"
        ' "x-empty": {}, "x-list": []\n'
        "}\n"
    )
    source = load_document(tmp_path / "a.json")
    assert source.line_of("") == 1
    assert source.line_of("/openapi") == 1
    assert source.line_of("/paths/~1a~0b/put") == 9, "a repeated key: the last one, as parsed"
    assert source.line_of("/paths/~1a~0b/get") == 9, "nearest located parent"
    assert source.line_of("/x-list/0") == 11
    assert source.line_of("/nothing/here") == 1


def test_bundled_pointers_are_placed_in_their_own_file(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "openapi.json").write_text(
        '{"openapi": "3.1.0",\n "components": {"schemas": {\n'
        '  "Pet": {"$ref": "schemas/pet.yaml#/Pet"}}}}\n'
    )
    (tmp_path / "schemas" / "pet.yaml").write_text(
        "Pet:\n  type: object\n  properties:\n    name: {type: string}\n"
    )
    source = load_document(tmp_path / "openapi.json", "openapi.json")
    assert source.place("/components/schemas/Pet") == ("openapi.json", "/components/schemas/Pet", 3)
    assert source.place("/x-mcpgen-bundled/0/Pet/properties/name") == (
        "schemas/pet.yaml",
        "/Pet/properties/name",
        4,
    )


def test_a_missing_ref_file_is_located(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components:\n  schemas:\n    Pet:\n      $ref: 'nope.yaml#/Pet'\n"
    )
    with pytest.raises(McpgenError) as caught:
        load_document(tmp_path / "a.yaml", "a.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.pointer == "/components/schemas/Pet"
    assert diagnostic.line == 6
    assert "missing file" in diagnostic.message


def test_invalid_utf8_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"openapi: \xff\n")
    with pytest.raises(McpgenError, match="not UTF-8"):
        load_document(tmp_path / "a.yaml")


def test_a_report_locates_warnings_in_the_sources_it_knows(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("openapi: 3.1.0\npaths:\n  /x:\n    get: {}\n")
    report = Report()
    report.warn("early", "m", file="a.yaml", pointer="/paths/~1x/get")
    report.locate(load_document(tmp_path / "a.yaml", "a.yaml"))
    report.warn("late", "m", file="a.yaml", pointer="/paths/~1x/get")
    report.warn("given", "m", file="a.yaml", pointer="/paths", line=40)
    report.warn("other", "m", file="b.yaml", pointer="/paths")
    report.add(Diagnostic(Level.WARNING, "added", "m", "a.yaml", "/openapi"))
    assert [(w.code, w.file, w.line) for w in report.warnings] == [
        ("early", "a.yaml", None),
        ("late", "a.yaml", 4),
        ("given", "a.yaml", 40),
        ("other", "b.yaml", None),
        ("added", "a.yaml", 1),
    ]
