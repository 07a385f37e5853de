"""custom.py, the user's own module: hooks around calls, result shaping, hand-written tools."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from specs.bookshop import upstream as bookshop
from tests.support import net, procs

ROOT = Path(__file__).resolve().parents[2]

CUSTOM = """
from __future__ import annotations

from typing import TYPE_CHECKING

from mcp.types import CallToolResult, TextContent

if TYPE_CHECKING:
    from .runtime.server import ApiServer, ToolCall
    from .runtime.upstream import Reply


async def before_call(call: ToolCall) -> None:
    if call.tool.name == "list_books":
        call.arguments.setdefault("limit", 2)


async def after_call(call: ToolCall, reply: Reply, result: CallToolResult) -> CallToolResult:
    if reply.status == 404:
        hint = TextContent(type="text", text="Hint: list_books shows the ids that exist.")
        return CallToolResult(content=[*result.content, hint], is_error=True)
    return result


def register(server: ApiServer) -> None:
    @server.tool(name="shout", description="Upper-cases a text.")
    async def shout(text: str) -> str:
        return text.upper()
"""

PROBE = """
import anyio, sys
from mcp import Client
from bookshop_mcp.runtime.config import Settings
from bookshop_mcp.server import create_server

async def main() -> None:
    settings = Settings(base_url=sys.argv[1], credentials={"UPSTREAM_API_KEY": sys.argv[2]})
    async with Client(create_server(settings)) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        print(names[-1], len(names))
        print((await client.call_tool("shout", {"text": "hi"})).content[0].text)
        missing = await client.call_tool("get_book", {"bookId": "nope"})
        print(missing.is_error, missing.content[-1].text)
        await client.call_tool("list_books", {})

anyio.run(main)
"""


@pytest.mark.parametrize("exposure", ["tools", "compact"])
def test_hooks_and_handwritten_tools(tmp_path: Path, exposure: str) -> None:
    mapping = tmp_path / "mcpgen.yaml"
    # A phrase in the user's words that no text of the spec shares (compact search reads it).
    phrases = "operations:\n  listBooks:\n    search: [rummage through the catalogue]\n"
    mapping.write_text(f"exposure: {exposure}\n{phrases}")
    out = tmp_path / "project"
    spec = ROOT / "specs/bookshop/openapi.yaml"
    argv = [sys.executable, "-m", "mcpgen", "generate", str(spec), "-o", str(out)]
    procs.run_bounded([*argv, "-m", str(mapping), "--name", "bookshop"], timeout=180)
    (out / "src/bookshop_mcp/custom.py").write_text(CUSTOM)
    if exposure == "compact":
        probe = PROBE.replace(
            'client.call_tool("get_book", {"bookId": "nope"})',
            'client.call_tool("call_operation", '
            '{"name": "get_book", "arguments": {"bookId": "nope"}})',
        ).replace(
            'client.call_tool("list_books", {})',
            'client.call_tool("call_operation", {"name": "list_books", "arguments": {}})\n'
            '        found = await client.call_tool("search_operations", '
            '{"query": "rummage through the catalogue", "limit": 1})\n'
            "        print(found.content[0].text)",
        )
    else:
        probe = PROBE
    app, log = bookshop.create_app()
    with net.serve_in_thread(app) as base:
        done = procs.run_bounded(
            [sys.executable, "-c", probe, f"{base}/v1", bookshop.DEFAULT_API_KEY],
            env={"PYTHONPATH": str(out / "src")},
            timeout=60,
        )
    lines = done.stdout.splitlines()
    assert lines[0] == ("shout 9" if exposure == "tools" else "shout 4"), done.stderr
    assert lines[1] == "HI"
    assert lines[2] == "True Hint: list_books shows the ids that exist."
    if exposure == "compact":
        found = json.loads(lines[3])["operations"]
        assert [op["name"] for op in found] == ["list_books"], "the mapping's phrase found it"
    assert log.last().query_params() == [("limit", "2")], "before_call filled the default"
