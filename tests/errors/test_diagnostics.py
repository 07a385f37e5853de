"""One diagnostics channel: every warning of the spec, the mapping and the plan is located
(file, JSON pointer, line), printed one way on stderr, and listed in every `--json` document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SPEC = """\
openapi: 3.1.0
info:
  title: Demo API
  version: 2024-01 beta
servers:
  - url: /v1
paths:
  /items:
    get:
      operationId: listItems
      tags: [items]
      responses:
        "200":
          description: ok
  /items/{id}:
    get:
      operationId: list_items
      description: LONG
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "204":
          description: ok
""".replace("LONG", "x" * 1100)

MAPPING = """\
server:
  version: not a version
rules:
  - match: {tags: [items]}
    as: tool
  - match: {paths: [/items]}
    as: exclude
  - match: {tags: [itemz]}
    as: exclude
"""

JSON_FORMAT = 2


def mcpgen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "mcpgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def rendered(diagnostic: dict[str, Any]) -> str:
    """The one text form, as the README documents it."""
    place = diagnostic["file"] or ""
    if diagnostic["file"] and diagnostic["pointer"] is not None:
        place += "#" + diagnostic["pointer"]
    if diagnostic["file"] and diagnostic["line"] is not None:
        place += f" (line {diagnostic['line']})"
    prefix = f"{place}: " if place else ""
    return f"{prefix}{diagnostic['level']}[{diagnostic['code']}]: {diagnostic['message']}"


def located(diagnostics: list[dict[str, Any]]) -> set[tuple[str, str, str | None, int | None]]:
    return {(d["code"], d["file"], d["pointer"], d["line"]) for d in diagnostics}


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    (tmp_path / "openapi.yaml").write_text(SPEC)
    (tmp_path / "mcpgen.yaml").write_text(MAPPING)
    return tmp_path


def test_spec_warnings_are_located_with_their_line(inputs: Path) -> None:
    done = mcpgen("plan", "openapi.yaml", "--json", cwd=inputs)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert (document["command"], document["format"], document["exit_code"]) == (
        "plan",
        JSON_FORMAT,
        0,
    )
    diagnostics = document["diagnostics"]
    assert all(d["level"] == "warning" for d in diagnostics)
    assert located(diagnostics) == {
        ("name-collision", "openapi.yaml", "/paths/~1items~1{id}/get", 16),
        ("package-version", "openapi.yaml", "/info/version", 4),
        ("relative-server-url", "openapi.yaml", "/servers/0/url", 6),
        ("long-description", "openapi.yaml", "/paths/~1items~1{id}/get", 16),
    }
    assert [rendered(d) for d in diagnostics] == done.stderr.splitlines()


def test_mapping_warnings_point_into_the_mapping(inputs: Path) -> None:
    done = mcpgen("plan", "openapi.yaml", "-m", "mcpgen.yaml", "--json", cwd=inputs)
    assert done.returncode == 0, done.stderr
    diagnostics = json.loads(done.stdout)["diagnostics"]
    by_code = {d["code"]: d for d in diagnostics if d["file"] == "mcpgen.yaml"}
    assert by_code["package-version"]["pointer"] == "/server/version"
    assert by_code["package-version"]["line"] == 2
    assert (
        "'not a version' is not a Python package version" in by_code["package-version"]["message"]
    )
    unused = [d for d in diagnostics if d["code"] == "rule-unused"]
    assert [(d["pointer"], d["line"]) for d in unused] == [("/rules/1", 6), ("/rules/2", 8)]
    assert "earlier rules decide every operation it matches" in unused[0]["message"]
    assert "it matches no operation of the spec" in unused[1]["message"]
    assert not any(d["pointer"] == "/info/version" for d in diagnostics), "the mapping's wins"


def test_plan_warnings_are_diagnostics_on_stderr(tmp_path: Path) -> None:
    paths = {
        f"/things{i}": {
            "get": {"operationId": f"getThing{i}", "responses": {"204": {"description": "ok"}}}
        }
        for i in range(45)
    }
    spec = tmp_path / "openapi.json"
    spec.write_text(
        json.dumps(
            {
                "openapi": "3.1.0",
                "info": {"title": "Big", "version": "1"},
                "servers": [{"url": "https://api.example.com"}],
                "paths": paths,
            },
            indent=1,
        )
    )
    text = mcpgen("plan", "openapi.json", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert text.stderr == (
        "openapi.json: warning[client-cap]: 45 tools exceed Cursor's limit of 40; "
        "curate with rules or use `exposure: compact`\n"
    )
    assert "warning" not in text.stdout
    document = json.loads(mcpgen("plan", "openapi.json", "--json", cwd=tmp_path).stdout)
    assert located(document["diagnostics"]) == {("client-cap", "openapi.json", None, None)}


def test_generate_prints_every_diagnostic_one_way_and_lists_them_in_json(inputs: Path) -> None:
    done = mcpgen(
        "generate", "openapi.yaml", "-m", "mcpgen.yaml", "-o", "out", "--json", cwd=inputs
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["format"] == JSON_FORMAT
    assert "warnings" not in document, "one channel: no parallel list of strings"
    diagnostics = document["diagnostics"]
    assert {d["code"] for d in diagnostics} == {
        "name-collision",
        "package-version",
        "relative-server-url",
        "rule-unused",
    }
    assert all(d["file"] and d["pointer"] and d["line"] for d in diagnostics)
    lines = done.stderr.splitlines()
    assert lines == [rendered(d) for d in diagnostics], "stderr says exactly what the JSON says"
    assert not any(line.startswith("warning:") for line in lines)

    again = mcpgen("check", "out", "--json", cwd=inputs)
    assert again.returncode == 0, again.stderr
    checked = json.loads(again.stdout)
    assert (checked["format"], checked["up_to_date"]) == (JSON_FORMAT, True)
    assert "warnings" not in checked
    assert checked["diagnostics"] == diagnostics
    assert again.stderr.splitlines() == lines


@pytest.mark.parametrize("command", ["generate", "check", "plan"])
def test_bad_input_in_json_mode_gives_the_json_error_document(command: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /x: [\n")
    (tmp_path / "project").mkdir()
    args = {
        "generate": ("generate", "bad.yaml", "-o", "out"),
        "check": ("check", "project"),
        "plan": ("plan", "bad.yaml"),
    }[command]
    done = mcpgen(*args, "--json", cwd=tmp_path)
    assert done.returncode == 2
    document = json.loads(done.stdout)
    assert set(document) == {"command", "diagnostics", "exit_code", "format"}
    assert (document["command"], document["exit_code"], document["format"]) == (
        command,
        2,
        JSON_FORMAT,
    )
    [error] = document["diagnostics"]
    assert error["level"] == "error"
    expected = {
        "generate": ("syntax", "bad.yaml", None, 5),
        "check": ("no-inputs", "project", None, None),
        "plan": ("syntax", "bad.yaml", None, 5),
    }[command]
    assert (error["code"], error["file"], error["pointer"], error["line"]) == expected
    assert done.stderr.splitlines() == [rendered(error)]


def test_a_warning_in_a_referenced_file_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "openapi.yaml").write_text(
        "openapi: 3.1.0\n"
        "info: {title: Pets, version: '1'}\n"
        "servers: [{url: 'https://pets.example.com'}]\n"
        "paths:\n"
        "  /pets:\n"
        "    get:\n"
        "      operationId: listPets\n"
        "      responses:\n"
        "        '200':\n"
        "          description: ok\n"
        "          content:\n"
        "            application/json:\n"
        "              schema: {$ref: 'schemas/common.yaml#/components/schemas/Pet'}\n"
    )
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas/common.yaml").write_text(
        "components:\n"
        "  schemas:\n"
        "    Pet:\n"
        "      type: object\n"
        "      properties:\n"
        "        name: {type: string, pattern: '(unclosed'}\n"
    )
    done = mcpgen("plan", "openapi.yaml", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [warning] = json.loads(done.stdout)["diagnostics"]
    pointer = "/components/schemas/Pet/properties/name/pattern"
    assert located([warning]) == {("schema-pattern", "schemas/common.yaml", pointer, 6)}
    assert done.stderr == rendered(warning) + "\n"
