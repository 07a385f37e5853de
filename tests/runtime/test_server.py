"""The MCP server (mcpgen.runtime.server) through the official client, in process."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from starlette.testclient import TestClient

from mcpgen.runtime.config import Settings
from mcpgen.runtime.definitions import ToolDef
from mcpgen.runtime.encoding import UNSET, ArgumentError, Unset
from mcpgen.runtime.server import ApiServer, ToolCall, create_http_app
from mcpgen.runtime.upstream import Reply, Upstream
from tests.runtime.conftest import Recorder, make_project

pytestmark = pytest.mark.anyio
ANNOTATIONS = ToolAnnotations(read_only_hint=True)


async def get_item(upstream: Upstream, *, item_id: str, verbose: bool | Unset = UNSET) -> Reply:
    return await upstream.request("GET", "/items/{id}", path_params={"id": item_id})


ITEM = ToolDef(
    name="get_item",
    title="Get an item",
    description="One item by id.",
    handler=get_item,
    arguments={"itemId": "item_id", "verbose": "verbose"},
    input_schema={
        "type": "object",
        "properties": {"itemId": {"type": "string"}, "verbose": {"type": "boolean"}},
        "required": ["itemId"],
        "additionalProperties": False,
    },
    output_schema={"type": "object", "properties": {"id": {"type": "string"}}},
    annotations=ANNOTATIONS,
    path="/items/{id}",
)
LIST = ToolDef(
    name="list_items",
    title="List items",
    description="All items.",
    handler=lambda upstream: upstream.request("GET", "/items"),
    arguments={},
    input_schema={"type": "object", "properties": {}, "additionalProperties": False},
    output_schema={"type": "object", "properties": {"result": {"type": "array"}}},
    annotations=ANNOTATIONS,
    wrap_output=True,
    keep_fields=("id",),
    path="/items",
)


class Hooks:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def before_call(self, call: ToolCall) -> None:
        self.calls.append(call.tool.name)
        if call.arguments.get("itemId") == "refuse":
            raise ArgumentError("not this one")
        if call.arguments.get("itemId") == "alias":
            call.arguments["itemId"] = "real"

    async def after_call(
        self, call: ToolCall, reply: Reply, result: CallToolResult
    ) -> CallToolResult:
        if reply.status == 404:
            result.content.append(TextContent(type="text", text="hint: list_items"))
        return result


def make_server(url: str = "", **kwargs: Any) -> ApiServer:
    settings = Settings(base_url=url + "/base" if url else "", retries=0)
    return ApiServer(make_project(), settings, [ITEM, LIST], **kwargs)


async def test_lists_generated_then_hand_written_tools_from_one_serialisation() -> None:
    server = make_server()

    @server.tool(name="shout", description="Upper-cases a text.")
    async def shout(text: str) -> str:
        return text.upper()

    async with Client(server) as client:
        first = await client.list_tools()
        second = await client.list_tools()
        shouted = await client.call_tool("shout", {"text": "hi"})
    assert [t.name for t in first.tools] == ["get_item", "list_items", "shout"]
    assert first == second
    assert first.tools[0].annotations == ANNOTATIONS
    assert shouted.content[0].type == "text" and shouted.content[0].text == "HI"


async def test_a_call_reaches_the_upstream_and_returns_structured_content(
    recorder: tuple[Recorder, str],
) -> None:
    rec, url = recorder
    rec.queue(200, {"id": "a1"})
    async with Client(make_server(url)) as client:
        result = await client.call_tool("get_item", {"itemId": "a1"})
    assert not result.is_error
    assert result.structured_content == {"id": "a1"}
    assert [(s.method, s.raw_path) for s in rec.seen] == [("GET", "/base/items/a1")]


async def test_lists_are_wrapped_and_shaped(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    rec.queue(200, [{"id": "a", "secret": 1}])
    async with Client(make_server(url)) as client:
        result = await client.call_tool("list_items", {})
    assert result.structured_content == {"result": [{"id": "a"}]}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "'itemId' is a required property"),
        ({"itemId": 3}, "itemId: 3 is not of type 'string'"),
        ({"itemId": "x", "extra": 1}, "Additional properties are not allowed"),
    ],
)
async def test_invalid_arguments_never_reach_the_upstream(
    recorder: tuple[Recorder, str], arguments: dict[str, Any], message: str
) -> None:
    rec, url = recorder
    async with Client(make_server(url)) as client:
        result = await client.call_tool("get_item", arguments)
    assert result.is_error and message in str(result.content[0])
    assert rec.seen == []


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (404, {"message": "no such item"}, "application/json", "answered 404 Not Found: no such"),
        (500, b"boom", "text/plain", "answered 500 Internal Server Error: boom"),
        (200, b"<html>", "text/html", "but the reply is not JSON: <html>"),
        (200, {"id": 5}, "application/json", "does not match the documented schema"),
    ],
)
async def test_upstream_faults_are_tool_errors(
    recorder: tuple[Recorder, str],
    status: int,
    body: Any,
    content_type: str,
    expected: str,
) -> None:
    rec, url = recorder
    rec.queue(status, body, content_type)
    async with Client(make_server(url)) as client:
        result = await client.call_tool("get_item", {"itemId": "a"})
    assert result.is_error and expected in str(result.content[0])


async def test_unreachable_and_unconfigured_upstreams() -> None:
    async with Client(make_server("http://127.0.0.1:9")) as client:
        unreachable = await client.call_tool("get_item", {"itemId": "a"})
    async with Client(make_server()) as client:
        unconfigured = await client.call_tool("get_item", {"itemId": "a"})
    assert unreachable.is_error and "Could not reach the upstream API" in str(unreachable)
    assert unconfigured.is_error and "set UPSTREAM_BASE_URL" in str(unconfigured)


async def test_hooks_see_and_change_every_call(recorder: tuple[Recorder, str]) -> None:
    rec, url = recorder
    rec.queue(404, {"message": "gone"})
    hooks = Hooks()
    async with Client(make_server(url, hooks=hooks)) as client:
        missing = await client.call_tool("get_item", {"itemId": "alias"})
        refused = await client.call_tool("get_item", {"itemId": "refuse"})
    assert rec.seen[0].raw_path == "/base/items/real"
    assert missing.is_error and "hint: list_items" in str(missing.content[-1])
    assert refused.is_error and "not this one" in str(refused.content[0])
    assert hooks.calls == ["get_item", "get_item"] and len(rec.seen) == 1


async def test_unknown_tools_are_protocol_errors() -> None:
    async with Client(make_server()) as client:
        with pytest.raises(MCPError, match="Unknown tool: nope"):
            await client.call_tool("nope", {})


def test_two_tools_with_one_name_are_refused() -> None:
    with pytest.raises(ValueError, match="two tools are named 'get_item'"):
        ApiServer(make_project(), Settings(), [ITEM, ITEM])


def test_http_app_serves_health_and_checks_hosts() -> None:
    with TestClient(create_http_app(make_server())) as http:
        health = http.get("/healthz")
        foreign = http.post("/mcp", headers={"host": "evil.example"}, json={})
    assert health.status_code == 200 and health.json() == {"status": "ok", "tools": 2}
    assert foreign.status_code == 421
