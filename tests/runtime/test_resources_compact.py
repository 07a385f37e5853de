"""Resources, prompts and compact exposure (mcpgen.runtime.resources, .compact)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from mcp.types import TextResourceContents

from mcpgen.runtime import compact as compact_module
from mcpgen.runtime.compact import CompactServer
from mcpgen.runtime.config import Settings
from mcpgen.runtime.definitions import PromptArg, PromptDef, ToolDef
from mcpgen.runtime.resources import ResourceServer
from mcpgen.runtime.search import Document, SearchIndex
from mcpgen.runtime.upstream import Reply, Upstream
from tests.runtime.conftest import Recorder, make_project
from tests.runtime.test_server import ANNOTATIONS, ITEM, LIST

pytestmark = pytest.mark.anyio


async def get_category(upstream: Upstream, *, slug: str) -> Reply:
    return await upstream.request("GET", "/categories/{slug}", path_params={"slug": slug})


CATEGORY = ToolDef(
    name="category",
    title="A category",
    description="One category.",
    handler=get_category,
    arguments={"slug": "slug"},
    input_schema={"type": "object", "properties": {"slug": {"type": "string"}}},
    output_schema={"type": "object"},
    annotations=ANNOTATIONS,
    kind="resource_template",
    uri="demo://categories/{slug}",
)
STATS = ToolDef(
    name="stats",
    title="Stats",
    description="Shop statistics.",
    handler=lambda upstream: upstream.request("GET", "/stats"),
    arguments={},
    input_schema={"type": "object", "properties": {}},
    output_schema=None,
    annotations=ANNOTATIONS,
    kind="resource",
    uri="demo://stats",
)
PROMPT = PromptDef(
    name="recommend",
    template="Recommend a {genre} book, {reader}.",
    description="Ask for a recommendation.",
    arguments=(PromptArg("genre", "A genre"), PromptArg("reader", required=False)),
)


def settings(url: str) -> Settings:
    return Settings(base_url=url + "/base", retries=0)


async def test_resources_and_templates_read_the_upstream(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    rec.queue(200, {"slug": "a b"})
    rec.queue(200, b"42 books", "text/plain")
    server = ResourceServer(make_project(), settings(url), [ITEM, CATEGORY, STATS], [PROMPT])
    async with Client(server) as client:
        tools = await client.list_tools()
        resources = await client.list_resources()
        templates = await client.list_resource_templates()
        category = await client.read_resource("demo://categories/a%20b")
        stats = await client.read_resource("demo://stats")
        with pytest.raises(MCPError, match="Unknown resource"):
            await client.read_resource("demo://nothing")
    assert [t.name for t in tools.tools] == ["get_item"]
    assert [(r.name, str(r.uri), r.mime_type) for r in resources.resources] == [
        ("stats", "demo://stats", "text/plain")
    ]
    assert [t.uri_template for t in templates.resource_templates] == ["demo://categories/{slug}"]
    assert [s.raw_path for s in rec.seen] == ["/base/categories/a%20b", "/base/stats"]
    (content,) = category.contents
    assert isinstance(content, TextResourceContents) and json.loads(content.text) == {"slug": "a b"}
    assert stats.contents[0].text == "42 books"  # type: ignore[union-attr]


async def test_prompts_fill_their_fields() -> None:
    server = ResourceServer(make_project(), Settings(), [], [PROMPT])
    async with Client(server) as client:
        listed = await client.list_prompts()
        result = await client.get_prompt("recommend", {"genre": "poetry"})
        with pytest.raises(MCPError, match="Missing prompt arguments"):
            await client.get_prompt("recommend", {})
        with pytest.raises(MCPError, match="Unknown prompt"):
            await client.get_prompt("nope", {})
    assert [a.name for a in listed.prompts[0].arguments or []] == ["genre", "reader"]
    assert result.messages[0].content.text == "Recommend a poetry book, ."  # type: ignore[union-attr]


async def test_compact_exposure_searches_describes_and_calls(
    recorder: tuple[Recorder, str],
) -> None:
    rec, url = recorder
    rec.queue(200, {"id": "x"})
    server = CompactServer(make_project(exposure="compact"), settings(url), [ITEM, LIST])
    async with Client(server) as client:
        listed = await client.list_tools()
        found = await client.call_tool("search_operations", {"query": "get item"})
        described = await client.call_tool("describe_operation", {"name": "get_item"})
        called = await client.call_tool(
            "call_operation", {"name": "get_item", "arguments": {"itemId": "x"}}
        )
        refused = await client.call_tool(
            "call_operation", {"name": "get_item", "arguments": {"itemId": 1}}
        )
        unknown = await client.call_tool("call_operation", {"name": "nope"})
    names = [t.name for t in listed.tools]
    assert names == ["search_operations", "describe_operation", "call_operation"]
    assert _json(found)["operations"][0]["name"] == "get_item"
    assert _json(described)["input_schema"] == ITEM.input_schema
    assert not called.is_error and _json(called) == {"id": "x"}
    assert refused.is_error and unknown.is_error
    assert len(rec.seen) == 1


def _json(result: Any) -> Any:
    return json.loads(result.content[0].text)


async def test_compact_search_reads_arguments_descriptions_and_what_operations_return(
    recorder: tuple[Recorder, str],
) -> None:
    """Search reads each operation as tools/list shows it, with its arguments' descriptions
    and its output schema's properties; operations added by hand are found too."""
    rec, url = recorder
    stats = dataclasses.replace(
        ITEM,
        name="shop_stats",
        title="Shop figures",
        description="Figures.",
        arguments={"window": "window"},
        input_schema={
            "type": "object",
            "properties": {"window": {"type": "string", "description": "The reporting period."}},
        },
        output_schema={"type": "object", "properties": {"revenue": {"type": "integer"}}},
        path="/stats",
    )
    added = dataclasses.replace(LIST, name="list_gadgets", title="List gadgets", path="/gadgets")
    server = CompactServer(make_project(exposure="compact"), settings(url), [ITEM, LIST, stats])
    server.register(added)
    async with Client(server) as client:
        found = {
            query: await client.call_tool("search_operations", {"query": query, "limit": 1})
            for query in ("reporting period", "revenue", "gadgets")
        }
    assert {q: [op["name"] for op in _json(r)["operations"]] for q, r in found.items()} == {
        "reporting period": ["shop_stats"],
        "revenue": ["shop_stats"],
        "gadgets": ["list_gadgets"],
    }
    assert rec.seen == []


async def test_compact_operations_are_not_callable_by_name(recorder: tuple[Recorder, str]) -> None:
    """Unlisted per-operation tools are reached through call_operation only."""
    rec, url = recorder
    server = CompactServer(make_project(exposure="compact"), settings(url), [ITEM, LIST])
    async with Client(server) as client:
        with pytest.raises(MCPError, match="Unknown tool: get_item"):
            await client.call_tool("get_item", {"itemId": "x"})
    assert rec.seen == []


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("call_operation", {"name": "get_item", "arguments": {}, "extra": 1}, "Additional"),
        ("call_operation", {"name": 3, "arguments": {"itemId": "x"}}, "is not of type 'string'"),
        ("call_operation", {"name": "get_item", "arguments": "itemId=x"}, "not of type 'object'"),
        ("call_operation", {"arguments": {"itemId": "x"}}, "'name' is a required property"),
        ("search_operations", {"query": "item", "limit": 500}, "greater than the maximum"),
        ("describe_operation", {"name": "get_item", "verbose": True}, "Additional"),
    ],
)
async def test_meta_tools_refuse_arguments_outside_their_schema(
    recorder: tuple[Recorder, str], name: str, arguments: dict[str, Any], message: str
) -> None:
    rec, url = recorder
    server = CompactServer(make_project(exposure="compact"), settings(url), [ITEM, LIST])
    async with Client(server) as client:
        result = await client.call_tool(name, arguments)
    assert result.is_error and message in result.content[0].text  # type: ignore[union-attr]
    assert f"Invalid arguments for {name}" in result.content[0].text  # type: ignore[union-attr]
    assert rec.seen == []


async def test_concurrent_first_searches_build_the_index_once(
    recorder: tuple[Recorder, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several first searches at once: one builds the index (in a thread), the others wait
    for it and use it."""
    _, url = recorder
    built: list[int] = []

    class SlowIndex(SearchIndex):
        """The real index, counted, and slow enough to build that the searches overlap."""

        def __init__(self, documents: Iterable[Document]) -> None:
            built.append(1)
            time.sleep(0.2)
            super().__init__(documents)

    monkeypatch.setattr(compact_module, "SearchIndex", SlowIndex)
    server = CompactServer(make_project(exposure="compact"), settings(url), [ITEM, LIST])
    found: list[Any] = []

    async def search() -> None:
        found.append(_json(await server.call_tool("search_operations", {"query": "item"})))

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(search)
    assert len(built) == 1
    assert len(found) == 5 and all(result == found[0] for result in found)
    assert found[0]["operations"]
