"""Compact exposure for large APIs: three meta-tools reach every operation.

`search_operations` finds operations by keyword, `describe_operation` returns one
operation's input schema, `call_operation` calls it, with its arguments checked against
that schema. The tool list stays small whatever the size of the API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import INVALID_PARAMS, CallToolResult, TextContent, ToolAnnotations
from mcp.types import Tool as MCPTool

from .config import Settings
from .definitions import ProjectInfo, PromptDef, ToolDef
from .limits import problems
from .resources import ResourceServer
from .server import Hooks

__all__ = ["CALL", "DESCRIBE", "SEARCH", "CompactServer"]

SEARCH = "search_operations"
DESCRIBE = "describe_operation"
CALL = "call_operation"
_WORD = re.compile(r"[a-z0-9]+")
_READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


def _meta_tools() -> list[MCPTool]:
    name_arg = {
        "type": "string",
        "description": "The operation's name, as search_operations lists it.",
    }
    return [
        MCPTool(
            name=SEARCH,
            title="Search the API's operations",
            description="Find API operations by keywords (words of their name, path and "
            "description). Returns names with one-line summaries; then use describe_operation "
            "and call_operation.",
            input_schema={
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "Keywords, e.g. 'list issues'."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                },
                "required": ["query"],
                "additionalProperties": False,
            },
            annotations=_READ_ONLY,
        ),
        MCPTool(
            name=DESCRIBE,
            title="Describe one operation",
            description="The full description and the JSON Schema of an operation's arguments.",
            input_schema={
                "type": "object",
                "properties": {"name": name_arg},
                "required": ["name"],
                "additionalProperties": False,
            },
            annotations=_READ_ONLY,
        ),
        MCPTool(
            name=CALL,
            title="Call one operation",
            description="Call an API operation with arguments matching its schema "
            "(see describe_operation). Returns the API's reply.",
            input_schema={
                "type": "object",
                "properties": {
                    "name": name_arg,
                    "arguments": {"type": "object", "description": "The operation's arguments."},
                },
                "required": ["name"],
                "additionalProperties": False,
            },
            annotations=ToolAnnotations(destructive_hint=True, open_world_hint=True),
        ),
    ]


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower().replace("_", " ")))


class CompactServer(ResourceServer):
    """Lists three meta-tools instead of one tool per operation."""

    def __init__(
        self,
        project: ProjectInfo,
        settings: Settings,
        operations: Sequence[ToolDef],
        prompts: Sequence[PromptDef] = (),
        *,
        hooks: Hooks | None = None,
    ) -> None:
        super().__init__(project, settings, operations, prompts, hooks=hooks)
        self._meta = _meta_tools()
        self._index = {
            name: _words(f"{name} {tool.title} {tool.description} {tool.path}")
            for name, tool in self.tools.items()
        }

    async def list_tools(self) -> list[MCPTool]:
        """The meta-tools, then any added with `@server.tool()` in custom.register."""
        return [*self._meta, *await MCPServer.list_tools(self)]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult:
        meta = next((tool for tool in self._meta if tool.name == name), None)
        if meta is not None:
            found = problems(self.validator("meta:" + name, meta.input_schema), arguments)
            if found:
                return _text(f"Invalid arguments for {name}: " + "; ".join(found), True)
        if name == SEARCH:
            return self._search(str(arguments.get("query", "")), arguments.get("limit", 10))
        if name == DESCRIBE:
            return self._describe(str(arguments.get("name", "")))
        if name == CALL:
            tool = self.tools.get(str(arguments.get("name", "")))
            if tool is None:
                return _text(f"No operation named {arguments.get('name')!r}; use {SEARCH}.", True)
            given = arguments.get("arguments") or {}
            if not isinstance(given, dict):
                return _text("`arguments` must be an object.", True)
            result = await self.invoke(tool, given, context)
            return CallToolResult(content=result.content, is_error=result.is_error)
        if name in self.tools:
            # Operations are reached through call_operation only: a name that is not listed
            # is not callable.
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {name}")
        return await super().call_tool(name, arguments, context)

    def _search(self, query: str, limit: Any) -> CallToolResult:
        wanted = _words(query)
        count = limit if isinstance(limit, int) and 0 < limit <= 50 else 10
        scored = sorted(
            ((len(wanted & words), name) for name, words in self._index.items() if wanted & words),
            key=lambda pair: (-pair[0], pair[1]),
        )
        found = [
            {
                "name": name,
                "summary": self.tools[name].title,
                "method": self.tools[name].method,
                "path": self.tools[name].path,
            }
            for _, name in scored[:count]
        ]
        return _text(json.dumps({"operations": found, "total_matches": len(scored)}))

    def _describe(self, name: str) -> CallToolResult:
        tool = self.tools.get(name)
        if tool is None:
            return _text(f"No operation named {name!r}; use {SEARCH}.", True)
        described = {
            "name": tool.name,
            "title": tool.title,
            "description": tool.description,
            "method": tool.method,
            "path": tool.path,
            "input_schema": tool.input_schema,
            "read_only": tool.annotations.read_only_hint,
        }
        return _text(json.dumps(described))


def _text(text: str, error: bool = False) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=error)
