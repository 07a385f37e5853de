"""Your code: hooks around every tool call, result shaping, and extra hand-written tools.

mcpgen creates this file once and never touches it again, so customisations here survive
every regeneration. The server calls these three functions; keep their signatures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp.types import CallToolResult

    from .runtime.server import ApiServer, ToolCall
    from .runtime.upstream import Reply


async def before_call(call: ToolCall) -> None:
    """Runs before each tool call, after its arguments were validated.

    Change `call.arguments` in place to fill in or rewrite values; raise
    `runtime.encoding.ArgumentError("...")` to refuse the call with a message for the agent.
    """


async def after_call(call: ToolCall, reply: Reply, result: CallToolResult) -> CallToolResult:
    """Runs after each upstream reply; return the result to send (by default unchanged)."""
    return result


def register(server: ApiServer) -> None:
    """Add hand-written tools, resources or prompts, e.g. `@server.tool()` functions."""
