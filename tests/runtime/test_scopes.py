"""Per-operation scopes inside the server: what a JSON-RPC body needs, what a caller sees, and
the check at call time (defence in depth behind the HTTP gate), in both exposures and for
resources. The caller's scopes are set as the HTTP gate sets them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from mcpgen.runtime import auth
from mcpgen.runtime.compact import CompactServer
from mcpgen.runtime.config import Settings
from mcpgen.runtime.resources import ResourceServer
from mcpgen.runtime.server import ApiServer
from tests.runtime.conftest import make_project
from tests.runtime.test_auth import TOOLS

pytestmark = pytest.mark.anyio


@contextmanager
def caller(*scopes: str) -> Iterator[None]:
    token = auth._caller_scopes.set(frozenset(scopes))
    try:
        yield
    finally:
        auth._caller_scopes.reset(token)


def body(method: str, params: dict[str, object]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()


async def test_tools_need_their_scopes_and_are_listed_by_them() -> None:
    server = ApiServer(make_project(), Settings(), TOOLS)
    assert server.all_scopes() == {"items:read", "items:write"}
    call = body("tools/call", {"name": "write_item", "arguments": {}})
    assert server.required_scopes_for_body(call) == {"items:write"}
    assert server.required_scopes_for_body(b"not json") == frozenset()
    assert server.visible_tool_names(None) is None
    assert server.visible_tool_names(frozenset({"items:read", "items:write"})) is None
    assert server.visible_tool_names(frozenset({"items:read"})) == frozenset({"read_items", "ping"})
    assert server.visible_tool_names(frozenset()) == frozenset({"ping"})
    with caller("items:read"):
        refused = await server.call_tool("write_item", {})
        allowed = await server.call_tool("ping", {})
    assert refused.is_error and "needs the scope(s) items:write" in refused.content[0].text  # type: ignore[union-attr]
    assert not allowed.is_error


async def test_call_operation_enforces_the_called_operations_scopes() -> None:
    server = CompactServer(make_project(exposure="compact"), Settings(), TOOLS)
    call = {"name": "call_operation", "arguments": {"name": "write_item", "arguments": {}}}
    assert server.required_scopes("tools/call", call) == {"items:write"}
    assert server.required_scopes("tools/call", {"name": "search_operations"}) == frozenset()
    assert server.visible_tool_names(frozenset()) is None  # the meta-tools, for everyone
    with caller("items:read"):
        refused = await server.call_tool("call_operation", call["arguments"])  # type: ignore[arg-type]
        found = await server.call_tool("search_operations", {"query": "item items"})
        hidden = await server.call_tool("describe_operation", {"name": "write_item"})
    assert refused.is_error
    names = [o["name"] for o in json.loads(found.content[0].text)["operations"]]  # type: ignore[union-attr]
    assert names == ["read_items"]
    assert hidden.is_error


async def test_resources_need_the_scopes_of_their_operation() -> None:
    resource = replace(TOOLS[1], kind="resource", uri="items://all", name="all_items")
    server = ResourceServer(make_project(), Settings(), [TOOLS[0], resource])
    read = body("resources/read", {"uri": "items://all"})
    assert server.required_scopes_for_body(read) == {"items:write"}
    assert server.required_scopes("resources/read", {"uri": "items://none"}) == frozenset()
