"""The MCP server: precomputed tools, argument checks, upstream calls, results, HTTP app."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from jsonschema import Draft202012Validator
from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import INVALID_PARAMS, CallToolResult, ListToolsResult, TextContent
from mcp.types import Tool as MCPTool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .auth import caller_scopes, check_listen_address, install_auth, jsonrpc_calls
from .config import Settings
from .definitions import ProjectInfo, ToolDef
from .encoding import ArgumentError
from .observability import observe_http
from .upstream import NotConfiguredError, Reply, Upstream

__all__ = [
    "MAX_ERROR_TEXT",
    "ApiServer",
    "Hooks",
    "ToolCall",
    "create_http_app",
    "error_result",
    "json_text",
    "transport_security",
]

logger = logging.getLogger(__name__)
MAX_ERROR_TEXT = 2000
MAX_LISTINGS = 64  # tools/list serialisations kept, one per set of visible tools


@dataclass
class ToolCall:
    """A call in progress, as the hooks in custom.py see it."""

    tool: ToolDef
    arguments: dict[str, Any]
    context: Context[Any, Any] | None
    extra: dict[str, Any] = field(default_factory=dict)


class Hooks(Protocol):
    """What custom.py provides around every call (the module itself is passed)."""

    async def before_call(self, call: ToolCall) -> None: ...

    async def after_call(
        self, call: ToolCall, reply: Reply, result: CallToolResult
    ) -> CallToolResult: ...


class _NoHooks:
    async def before_call(self, call: ToolCall) -> None:
        return None

    async def after_call(
        self, call: ToolCall, reply: Reply, result: CallToolResult
    ) -> CallToolResult:
        return result


def json_text(value: Any) -> str:
    """Compact JSON text, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def error_result(message: str) -> CallToolResult:
    """A tool error with a message for the agent."""
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


def _upstream_message(reply: Reply) -> str:
    """The most useful line of an error reply: a JSON message field, else the text."""
    if reply.is_json:
        try:
            body = reply.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("message", "error_description", "detail", "error", "title", "errors"):
                if body.get(key):
                    value = body[key]
                    return value if isinstance(value, str) else json_text(value)
    return reply.text[:MAX_ERROR_TEXT].strip()


def problems(validator: Draft202012Validator, instance: Any) -> list[str]:
    """Every way `instance` breaks the validator's schema, one line each, in a stable order."""
    found = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path))):
        where = "/".join(str(p) for p in error.absolute_path)
        found.append(f"{where}: {error.message}" if where else error.message)
    return found


class ApiServer(MCPServer[Any]):
    """An MCPServer whose tools are precomputed: tools/list is built once, never per request."""

    def __init__(
        self,
        project: ProjectInfo,
        settings: Settings,
        operations: Sequence[ToolDef],
        *,
        hooks: Hooks | None = None,
    ) -> None:
        super().__init__(
            project.name,
            title=project.title,
            version=project.version,
            instructions=project.instructions,
        )
        self.project = project
        self.app_settings = settings
        self.hooks: Hooks = hooks or _NoHooks()
        self.upstream = Upstream(project, settings)
        self.tools: dict[str, ToolDef] = {}
        self.resources: dict[str, ToolDef] = {}
        self._listed: list[MCPTool] | None = None
        self._listed_wire: dict[frozenset[str] | None, dict[str, Any]] = {}
        self._visible: dict[frozenset[str], frozenset[str] | None] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        for operation in operations:
            if operation.kind == "tool":
                self.register(operation)
            else:
                self.resources[operation.name] = operation
        self.custom_route("/healthz", methods=["GET"])(self._healthz)

    async def _healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "tools": len(self.tools)})

    def register(self, tool: ToolDef) -> None:
        """Add one generated operation as a tool."""
        if tool.name in self.tools:
            raise ValueError(f"two tools are named {tool.name!r}")
        self.tools[tool.name] = tool
        self._listed = None
        self._listed_wire.clear()
        self._visible.clear()

    def all_scopes(self) -> frozenset[str]:
        """Every scope some operation needs (what the protected-resource metadata lists)."""
        found = {s for tool in self.tools.values() for s in tool.scopes}
        return frozenset(found | {s for op in self.resources.values() for s in op.scopes})

    def visible_tool_names(self, scopes: frozenset[str] | None) -> frozenset[str] | None:
        """The generated tools a caller holding `scopes` may see and call; None means all.

        `scopes` is None when scopes do not apply (no auth, static bearer tokens): every tool
        is visible. Otherwise a tool is visible when its scopes are all granted. None is also
        returned when that leaves every tool visible, so such callers share one listing.
        Tools added by hand in custom.register have no scopes and are always listed.

        tools/list serves one cached serialisation per distinct result of this method, so the
        result is the cache key: keep it a frozenset (or None).
        """
        if scopes is None:
            return None
        if scopes in self._visible:
            return self._visible[scopes]
        names = frozenset(n for n, t in self.tools.items() if scopes.issuperset(t.scopes))
        visible = None if len(names) == len(self.tools) else names
        if len(self._visible) >= 4 * MAX_LISTINGS:
            self._visible.clear()
        self._visible[scopes] = visible
        return visible

    def required_scopes(self, method: str, params: Mapping[str, Any]) -> frozenset[str]:
        """The scopes a JSON-RPC request needs: those of the tool a tools/call names."""
        if method == "tools/call":
            tool = self.tools.get(str(params.get("name")))
            if tool is not None:
                return frozenset(tool.scopes)
        return frozenset()

    def required_scopes_for_body(self, body: bytes) -> frozenset[str]:
        """The scopes every JSON-RPC request in an HTTP body needs (checked before the SDK
        handles it, so a missing scope is an HTTP 403 the client can act on)."""
        needed: frozenset[str] = frozenset()
        for method, params in jsonrpc_calls(body):
            needed |= self.required_scopes(method, params)
        return needed

    async def list_tools(self) -> list[MCPTool]:
        """The generated tools, then any added with `@server.tool()` in custom.register."""
        if self._listed is None:
            generated = [tool.listed() for tool in self.tools.values()]
            self._listed = [*generated, *await super().list_tools()]
        return self._listed

    async def _handle_list_tools(self, ctx: Any, params: Any) -> dict[str, Any]:  # type: ignore[override]
        """tools/list on the wire, serialised once per set of visible tools: for a large API,
        dumping every tool's schemas on each request costs more than the rest of the request
        put together. The caller's scopes choose the set (`visible_tool_names`).

        This overrides a private method of `mcp` 2.3 (`MCPServer._handle_list_tools`, the
        handler its request router calls for tools/list), which is why generated projects
        pin `mcp` to the 2.3 series; a test in mcpgen fails when the SDK stops calling it.
        When the SDK offers a public way to answer tools/list with ready data, use that and
        delete this method.
        """
        names = self.visible_tool_names(caller_scopes())
        wire = self._listed_wire.get(names)
        if wire is None:
            tools = await self.list_tools()
            if names is not None:
                tools = [t for t in tools if t.name in names or t.name not in self.tools]
            result = ListToolsResult(tools=tools)
            wire = result.model_dump(by_alias=True, mode="json", exclude_none=True)
            if len(self._listed_wire) >= MAX_LISTINGS:
                del self._listed_wire[next(k for k in self._listed_wire if k is not None)]
            self._listed_wire[names] = wire
        return dict(wire)

    def validator(self, key: str, schema: dict[str, Any]) -> Draft202012Validator:
        """A cached validator for `schema`, under `key`."""
        if key not in self._validators:
            self._validators[key] = Draft202012Validator(schema)
        return self._validators[key]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult:
        tool = self.tools.get(name)
        if tool is not None:
            return await self.invoke(tool, arguments, context)
        if any(listed.name == name for listed in await super().list_tools()):
            handwritten = await super().call_tool(name, arguments, context)
            if isinstance(handwritten, CallToolResult):
                return handwritten
        raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {name}")

    async def invoke(
        self, tool: ToolDef, arguments: dict[str, Any], context: Context[Any, Any] | None
    ) -> CallToolResult:
        """Check the arguments, call the upstream API through the tool's handler, shape the
        reply."""
        name = tool.name
        granted = caller_scopes()
        if granted is not None and not granted.issuperset(tool.scopes):
            return error_result(
                f"{name} needs the scope(s) {' '.join(tool.scopes)}: authorize this client "
                "with them to use it"
            )
        found = problems(self.validator("in:" + name, tool.input_schema), arguments)
        if found:
            return error_result(f"Invalid arguments for {name}: " + "; ".join(found))
        call = ToolCall(tool=tool, arguments=dict(arguments), context=context)
        try:
            await self.hooks.before_call(call)
            reply = await tool.call(self.upstream, call.arguments)
        except ArgumentError as exc:
            return error_result(f"Invalid arguments for {name}: {exc}")
        except NotConfiguredError as exc:
            return error_result(f"Cannot call {name}: {exc}")
        except httpx.TimeoutException:
            timeout = self.app_settings.timeout
            return error_result(
                f"The upstream API did not answer within {timeout:g} s ({tool.method} {tool.path})."
            )
        except httpx.HTTPError as exc:
            return error_result(
                f"Could not reach the upstream API ({tool.method} {tool.path}): {exc}"
            )
        result = self.shape(tool, reply)
        return await self.hooks.after_call(call, reply, result)

    def shape(self, tool: ToolDef, reply: Reply) -> CallToolResult:
        """Turn the upstream reply into the tool result (structured when the tool has a
        schema)."""
        if not reply.ok:
            message = _upstream_message(reply) or "(no message)"
            return error_result(
                f"The upstream API answered {reply.status} {reply.reason}: {message}"
            )
        if tool.output_schema is None:
            text = reply.text if reply.content else f"{reply.status} {reply.reason}"
            return CallToolResult(content=[TextContent(type="text", text=text)])
        try:
            data = reply.json() if reply.content else None
        except ValueError:
            return error_result(
                f"The call succeeded ({reply.status}) but the reply is not JSON: "
                f"{reply.text[:MAX_ERROR_TEXT]}"
            )
        if tool.keep_fields:
            from .shaping import keep_fields

            data = keep_fields(data, tool.keep_fields)
        structured = {"result": data} if tool.wrap_output else data
        found = problems(self.validator("out:" + tool.name, tool.output_schema), structured)
        if found:
            return error_result(
                f"The call succeeded ({reply.status}) but the reply does not match the "
                f"documented schema ({'; '.join(found[:5])}). Reply: "
                f"{reply.text[:MAX_ERROR_TEXT]}"
            )
        return CallToolResult(
            content=[TextContent(type="text", text=json_text(data))],
            structured_content=structured,
        )


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection, always explicit: MCP_ALLOWED_HOSTS=* turns it off."""
    return TransportSecuritySettings(
        enable_dns_rebinding_protection="*" not in settings.allowed_hosts,
        allowed_hosts=list(settings.allowed_hosts),
        allowed_origins=list(settings.allowed_origins),
    )


def create_http_app(server: ApiServer) -> Starlette:
    """The Streamable HTTP app: MCP at /mcp (stateless), GET /healthz outside any auth,
    GET /metrics, what `MCP_AUTH_MODE` adds (`auth.install_auth`), and a JSON log line per
    request (`observability`, outermost, so it sees refused requests too). Stops with a
    message when the settings would serve an open server on a public address."""
    settings = server.app_settings
    check_listen_address(settings)
    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(settings),
        host=settings.host,
    )
    close_auth = install_auth(server, app)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with server.upstream, inner(app):
                yield
        finally:
            await close_auth()

    app.router.lifespan_context = lifespan
    return observe_http(server, app)
