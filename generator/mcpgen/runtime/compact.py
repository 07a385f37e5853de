"""Compact exposure for large APIs: three meta-tools reach every operation.

`search_operations` finds operations by what they do, ranked (runtime/search.py),
`describe_operation` returns one operation's input schema, `call_operation` calls it, with
its arguments checked against that schema. The tool list stays small whatever the size of
the API, and no operation's module is imported before it is described or called.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import anyio.to_thread
from mcp import MCPError
from mcp.server.mcpserver import Context
from mcp.types import INVALID_PARAMS, CallToolResult, TextContent, ToolAnnotations
from mcp.types import Tool as MCPTool

from .auth import caller_scopes
from .config import Settings
from .definitions import Catalog, ProjectInfo, PromptDef, ToolDef, tool_bytes
from .limits import problems
from .resources import ResourceServer
from .search import Document, SearchIndex
from .server import Hooks

__all__ = ["CALL", "DESCRIBE", "SEARCH", "CompactServer"]

SEARCH = "search_operations"
DESCRIBE = "describe_operation"
CALL = "call_operation"
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
            description="Find the API operations that do a task, best match first. Say what "
            "you want to do in a few words. Returns names with one-line summaries; then use "
            "describe_operation and call_operation.",
            input_schema={
                "type": "object",
                "properties": {
                    "query": {
                        "type": "string",
                        "description": "The task, e.g. 'merge a pull request'.",
                    },
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


class CompactServer(ResourceServer):
    """Lists three meta-tools instead of one tool per operation."""

    def __init__(
        self,
        project: ProjectInfo,
        settings: Settings,
        operations: Sequence[ToolDef] | Catalog,
        prompts: Sequence[PromptDef] = (),
        *,
        hooks: Hooks | None = None,
    ) -> None:
        super().__init__(project, settings, operations, prompts, hooks=hooks)
        self._meta_tools = {tool.name: tool for tool in _meta_tools()}
        meta = [
            t.model_dump(by_alias=True, mode="json", exclude_none=True)
            for t in self._meta_tools.values()
        ]
        self._meta = [(tool["name"], tool_bytes(tool)) for tool in meta]
        self._index: SearchIndex | None = None
        self._building = anyio.Lock()  # the first searches wait for one build of the index

    def listed_tools(self) -> list[tuple[str, bytes]]:
        """The meta-tools (then tools/list adds any from `@server.tool()`)."""
        return list(self._meta)

    def index(self) -> SearchIndex:
        """The search index of every operation, built on the first search."""
        if self._index is None or len(self._index.documents) != len(self.tools):
            self._index = SearchIndex(self._documents())
        return self._index

    def _documents(self) -> list[Document]:
        found = [
            Document.of(entry.tool, entry.method, entry.path, entry.tags, entry.phrases)
            for entry in self.catalog
            if entry.kind == "tool"
        ]
        listed = {document.name for document in found}
        for name in self.tools:
            if name not in listed:  # added with register()
                added = self.tools[name]
                found.append(Document.of(added.wire(), added.method, added.path))
        return found

    def visible_tool_names(self, scopes: frozenset[str] | None) -> frozenset[str] | None:
        """Every caller sees the three meta-tools; scopes limit the operations they reach."""
        return None

    def required_scopes(self, method: str, params: Mapping[str, Any]) -> frozenset[str]:
        """call_operation needs the scopes of the operation it calls."""
        if method == "tools/call" and params.get("name") == CALL:
            arguments = params.get("arguments")
            if isinstance(arguments, dict):
                name = str(arguments.get("name"))
                if name in self.tools:
                    return frozenset(self.tools.scopes_of(name))
            return frozenset()
        return super().required_scopes(method, params)

    def _allowed(self, name: str) -> bool:
        granted = caller_scopes()
        return granted is None or granted.issuperset(self.tools.scopes_of(name))

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult:
        meta = self._meta_tools.get(name)
        if meta is not None:
            found = problems(self.validator("meta:" + name, meta.input_schema), arguments)
            if found:
                return _text(f"Invalid arguments for {name}: " + "; ".join(found), True)
        if name == SEARCH:
            if self._index is None:  # built once, off the event loop (0.2 s for 1,000 tools)
                async with self._building:
                    if self._index is None:  # not built by a search that held the lock
                        await anyio.to_thread.run_sync(self.index)
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
        count = limit if isinstance(limit, int) and 0 < limit <= 50 else 10
        ranked, total = self.index().search(query, count, self._allowed)
        found = [
            {"name": doc.name, "summary": doc.title, "method": doc.method, "path": doc.path}
            for doc, _ in ranked
        ]
        return _text(json.dumps({"operations": found, "total_matches": total}))

    def _describe(self, name: str) -> CallToolResult:
        tool = self.tools.get(name)
        if tool is None or not self._allowed(name):
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
