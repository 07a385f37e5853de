"""The mapping file: strict model, published schema, rules, overrides, resources, prompts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcpgen.errors import McpgenError, Report
from mcpgen.ir import Project
from mcpgen.mapping import load_mapping, mapping_json_schema
from mcpgen.pipeline import load_spec
from mcpgen.translate import TranslateOptions, translate_project
from mcpgen.translate.select import path_glob

ROOT = Path(__file__).resolve().parents[2]
BOOKSHOP = ROOT / "specs/bookshop/openapi.yaml"


def translate(tmp_path: Path, text: str) -> Project:
    (tmp_path / "mcpgen.yaml").write_text(text)
    mapping, source = load_mapping(tmp_path / "mcpgen.yaml", "mcpgen.yaml")
    options = TranslateOptions(mapping=mapping, mapping_source=source)
    return translate_project(load_spec(BOOKSHOP), options, Report())


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(McpgenError) as caught:
        translate(tmp_path, text)
    return str(caught.value)


def test_published_schema_is_current() -> None:
    committed = json.loads((ROOT / "mcpgen.schema.json").read_text())
    assert committed == mapping_json_schema(), "refresh: python -m mcpgen.mapping"


def test_unknown_keys_are_located(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, "server:\n  name: x\nrules:\n  - match: {method: [GET]}\n    as: tool\n"
    )
    assert "mcpgen.yaml#/rules/0/match/method (line 4)" in message
    assert "unknown key `method`" in message


def test_bad_values_are_located(tmp_path: Path) -> None:
    message = error_of(tmp_path, "rules:\n  - match: {}\n    as: toool\n")
    assert "mcpgen.yaml#/rules/0/as (line 3)" in message


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/books/*", "/books/{bookId}", True),
        ("/books/*", "/books/{bookId}/reviews", False),
        ("/books/**", "/books/{bookId}/reviews", True),
        ("/authors/*/books", "/authors/{authorId}/books", True),
    ],
)
def test_path_globs(pattern: str, path: str, expected: bool) -> None:
    assert path_glob(pattern, path) is expected


def test_first_matching_rule_wins_and_default_applies(tmp_path: Path) -> None:
    project = translate(
        tmp_path,
        "rules:\n"
        "  - match: {methods: [DELETE]}\n    as: exclude\n"
        "  - match: {tags: [books]}\n    as: tool\n"
        "  - match: {methods: [GET]}\n    as: exclude\n"
        "default: exclude\n",
    )
    assert [t.name for t in project.tools] == [
        "list_books",
        "create_book",
        "get_book",
        "replace_book",
        "add_review",
    ]


def test_overrides_rename_hide_and_cut(tmp_path: Path) -> None:
    project = translate(
        tmp_path,
        "operations:\n"
        "  listBooks:\n"
        "    name: find_books\n"
        "    title: Find books\n"
        "    annotations: {open_world: false}\n"
        "    arguments:\n"
        "      X-Request-Id: {hidden: true, value: mcp}\n"
        "      author: {name: author_name, description: Part of the author's name.}\n"
        "    keep_fields: [items.id, items.title]\n",
    )
    tool = project.tools[0]
    assert (tool.name, tool.title, tool.annotations.open_world) == (
        "find_books",
        "Find books",
        False,
    )
    properties = tool.input_schema["properties"]
    assert "X-Request-Id" not in properties and "author" not in properties
    assert properties["author_name"]["description"] == "Part of the author's name."
    assert tool.fixed == {"x_request_id": "mcp"}
    assert next(p for p in tool.params if p.wire == "author").arg == "author_name"
    assert tool.output_schema is not None
    item = tool.output_schema["properties"]["items"]["items"]
    assert list(item["properties"]) == ["title", "id"]
    assert tool.keep_fields == ("items.id", "items.title")


def test_search_phrases_go_into_the_listing_and_blank_ones_are_located(tmp_path: Path) -> None:
    project = translate(
        tmp_path,
        "operations:\n"
        "  listBooks:\n"
        "    search: ['what can I read', '  what   can I read ', 'browse the shelves']\n",
    )
    tool = next(t for t in project.tools if t.operation_id == "listBooks")
    assert tool.search_phrases == ("what can I read", "browse the shelves")
    assert tool.listing["phrases"] == ["what can I read", "browse the shelves"]
    assert list(tool.listing)[-2:] == ["phrases", "tool"]  # the tool's bytes stay last
    untouched = next(t for t in project.tools if t.operation_id == "getBook")
    assert "phrases" not in untouched.listing
    message = error_of(tmp_path, "operations:\n  listBooks:\n    search: ['ok', '   ']\n")
    assert "mcpgen.yaml#/operations/listBooks/search/1 (line 3)" in message


def test_override_of_an_unknown_operation_is_located(tmp_path: Path) -> None:
    message = error_of(tmp_path, "operations:\n  listBoks:\n    name: x\n")
    assert "mcpgen.yaml#/operations/listBoks (line 2)" in message


def test_override_of_an_unknown_argument_is_located(tmp_path: Path) -> None:
    message = error_of(tmp_path, "operations:\n  getBook:\n    arguments:\n      id: {name: x}\n")
    assert "mcpgen.yaml#/operations/getBook/arguments/id (line 4)" in message
    assert "bookId" in message


def test_resources_and_templates(tmp_path: Path) -> None:
    project = translate(
        tmp_path,
        "rules:\n  - match: {operation_ids: [getCategory, getBook]}\n    as: resource_template\n",
    )
    kinds = {t.name: (t.kind, t.uri) for t in project.tools if t.kind != "tool"}
    assert kinds == {
        "get_book": ("resource_template", "bookshop://books/{bookId}"),
        "get_category": ("resource_template", "bookshop://categories/{categoryId}"),
    }


def test_a_post_cannot_be_a_resource(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, "rules:\n  - match: {operation_ids: [createBook]}\n    as: resource\n"
    )
    assert "mcpgen.yaml#/rules/0 (line 2)" in message
    assert "only GET operations" in message


def test_prompts_and_server_settings(tmp_path: Path) -> None:
    project = translate(
        tmp_path,
        "server: {name: shop, title: The Shop, version: 9.9.9, base_url: 'https://api.example.com/'}\n"
        "exposure: compact\n"
        "prompts:\n"
        "  - name: recommend\n"
        "    arguments: [{name: genre}]\n"
        "    template: Recommend a {genre} book.\n",
    )
    assert (project.server_name, project.title, project.version) == ("shop", "The Shop", "9.9.9")
    assert project.base_url == "https://api.example.com"
    assert project.exposure == "compact"
    assert [p.name for p in project.prompts] == ["recommend"]


def test_deploy_targets_are_all_on_by_default_and_each_can_be_turned_off(tmp_path: Path) -> None:
    assert translate(tmp_path, "version: 1\n").deploy.model_dump() == {
        "docker": True,
        "fly": True,
        "cloudflare": True,
        "cloudflare_python": True,
        "aws_lambda": True,
        "any_target": True,
    }
    project = translate(tmp_path, "deploy:\n  lambda: false\n  cloudflare_python: false\n")
    assert (project.deploy.aws_lambda, project.deploy.cloudflare_python) == (False, False)
    assert project.deploy.docker and project.deploy.fly


def test_a_target_that_runs_the_image_needs_docker(tmp_path: Path) -> None:
    message = error_of(tmp_path, "deploy:\n  docker: false\n  lambda: false\n")
    assert "mcpgen.yaml#/deploy (line 1)" in message
    assert "fly, cloudflare run the project's Docker image" in message
    everything_off = "deploy: {docker: false, fly: false, cloudflare: false, lambda: false,"
    project = translate(tmp_path, everything_off + " cloudflare_python: false}\n")
    assert not project.deploy.any_target
