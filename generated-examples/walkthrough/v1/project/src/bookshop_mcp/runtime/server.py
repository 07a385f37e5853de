"""The MCP server: precomputed tools, argument checks, upstream calls, results, HTTP app."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio.to_thread
import httpx
from jsonschema import Draft202012Validator
from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import INVALID_PARAMS, CallToolResult, ListToolsResult
from mcp.types import Tool as MCPTool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .config import Settings
from .definitions import ProjectInfo, ToolDef
from .encoding import ArgumentError
from .limits import InputTooDeepError, RequestGuard, check_arguments, problems
from .redaction import Redactor, redact_logs
from .replies import MAX_ERROR_TEXT, error_result, json_text, shape_reply, upstream_error
from .upstream import NotConfiguredError, Reply, Upstream, UpstreamError

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
_INLINE_REPLY = 256 * 1024  # bytes; larger replies are shaped in a worker thread


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
        basic = [s.variables for s in project.schemes.values() if s.kind == "basic"]
        self.redactor = Redactor.of(settings.credentials, [(u, p) for u, p, *_ in basic])
        redact_logs(self.redactor)
        self.tools: dict[str, ToolDef] = {}
        self.resources: dict[str, ToolDef] = {}
        self._listed: list[MCPTool] | None = None
        self._listed_wire: dict[str, Any] | None = None
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
        self._listed_wire = None

    async def list_tools(self) -> list[MCPTool]:
        """The generated tools, then any added with `@server.tool()` in custom.register."""
        if self._listed is None:
            generated = [tool.listed() for tool in self.tools.values()]
            self._listed = [*generated, *await super().list_tools()]
        return self._listed

    async def _handle_list_tools(self, ctx: Any, params: Any) -> dict[str, Any]:  # type: ignore[override]
        """tools/list on the wire, serialised once: for a large API, dumping every tool's
        schemas on each request costs more than the rest of the request put together.

        This overrides a private method of `mcp` 2.3 (`MCPServer._handle_list_tools`, the
        handler its request router calls for tools/list), which is why generated projects
        pin `mcp` to the 2.3 series; a test in mcpgen fails when the SDK stops calling it.
        When the SDK offers a public way to answer tools/list with ready data, use that and
        delete this method.
        """
        if self._listed_wire is None:
            result = ListToolsResult(tools=await self.list_tools())
            self._listed_wire = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        return dict(self._listed_wire)

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
        reply; every text of the result is redacted of known credentials."""
        try:
            result = await self._invoke(tool, arguments, context)
        except Exception:
            # The tool call's outermost layer (a hook in custom.py, or a fault of the runtime
            # itself). The SDK would send the exception's own text to the client, and that text
            # may hold arguments or headers: the client gets a fixed message, the log the
            # traceback (redacted like every log record).
            logger.exception("Tool %r failed inside the server", tool.name)
            result = error_result(
                f"{tool.name} failed inside the server (an unexpected error, logged there)."
            )
        return self.redactor.result(result)

    async def _invoke(
        self, tool: ToolDef, arguments: dict[str, Any], context: Context[Any, Any] | None
    ) -> CallToolResult:
        name = tool.name
        try:
            found = await check_arguments(
                self.validator("in:" + name, tool.input_schema), arguments
            )
        except InputTooDeepError as exc:
            return error_result(f"Invalid arguments for {name}: {exc}")
        if found:
            return error_result(f"Invalid arguments for {name}: " + "; ".join(found))
        call = ToolCall(tool=tool, arguments=dict(arguments), context=context)
        where = f"{tool.method} {tool.path}"
        try:
            await self.hooks.before_call(call)
            reply = await tool.call(self.upstream, call.arguments)
        except ArgumentError as exc:
            return error_result(f"Invalid arguments for {name}: {exc}")
        except NotConfiguredError as exc:
            return error_result(f"Cannot call {name}: {exc}")
        except UpstreamError as exc:
            return error_result(f"Could not reach the upstream API ({where}): {exc}.")
        except httpx.HTTPError as exc:
            kind = type(exc).__name__
            return error_result(f"Could not reach the upstream API ({where}): {kind}.")
        if not reply.ok:
            result = upstream_error(tool, reply)
        elif len(reply.content) > _INLINE_REPLY:
            result = await anyio.to_thread.run_sync(functools.partial(self.shape, tool, reply))
        else:
            result = self.shape(tool, reply)
        return await self.hooks.after_call(call, reply, result)

    def shape(self, tool: ToolDef, reply: Reply) -> CallToolResult:
        """Turn the upstream reply into the tool result (structured when the tool has a
        schema), within MCP_MAX_RESULT_BYTES."""
        if not reply.ok:
            return upstream_error(tool, reply)
        schema = tool.output_schema or {}

        def validate(instance: Any) -> list[str]:
            return problems(self.validator("out:" + tool.name, schema), instance)

        return shape_reply(tool, reply, self.app_settings.max_result_bytes, validate)


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection, always explicit: MCP_ALLOWED_HOSTS=* turns it off."""
    return TransportSecuritySettings(
        enable_dns_rebinding_protection="*" not in settings.allowed_hosts,
        allowed_hosts=list(settings.allowed_hosts),
        allowed_origins=list(settings.allowed_origins),
    )


def create_http_app(server: ApiServer) -> Starlette:
    """The Streamable HTTP app: MCP at /mcp (stateless), GET /healthz outside any auth."""
    settings = server.app_settings
    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(settings),
        host=settings.host,
    )
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with server.upstream, inner(app):
            yield

    app.router.lifespan_context = lifespan
    app.add_middleware(RequestGuard, path="/mcp", max_bytes=settings.max_request_bytes)
    return app
