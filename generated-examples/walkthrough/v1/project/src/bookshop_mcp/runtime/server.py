"""The MCP server: precomputed tools, argument checks, upstream calls, results, HTTP app."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import anyio.to_thread
import httpx
from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import INVALID_PARAMS, CallToolResult
from mcp.types import Tool as MCPTool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .auth import caller_scopes, check_listen_address, install_auth, jsonrpc_calls
from .config import Settings
from .definitions import Catalog, ProjectInfo, ToolDef, tool_bytes
from .encoding import ArgumentError
from .limits import (
    InputTooDeepError,
    RequestGuard,
    SharedBodyLimit,
    check_arguments,
    problems,
)
from .listing import Listing, ListingMark, SpliceCounts, SpliceListings, SpliceStream, mark_of
from .observability import observe_http
from .redaction import Redactor, call_scope, end_call, redact_logs
from .replies import MAX_ERROR_TEXT, error_result, json_text, shape_reply, upstream_error
from .upstream import NotConfiguredError, Reply, Upstream, UpstreamError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = [
    "MAX_ERROR_TEXT",
    "ApiServer",
    "Hooks",
    "ToolCall",
    "Tools",
    "create_http_app",
    "create_sse_app",
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


class Tools(Mapping[str, ToolDef]):
    """The server's tools by name. A generated tool's module is imported the first time the
    tool is looked up (its first call); names and `listed()` never import anything."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._generated = tuple(entry.name for entry in catalog if entry.kind == "tool")
        self._added: dict[str, ToolDef] = {}

    def __getitem__(self, name: str) -> ToolDef:
        added = self._added.get(name)
        if added is not None:
            return added
        entry = self._catalog.get(name)
        if entry is None or entry.kind != "tool":
            raise KeyError(name)
        return self._catalog.load(name)

    def __contains__(self, name: object) -> bool:
        if name in self._added:
            return True
        entry = self._catalog.get(name) if isinstance(name, str) else None
        return entry is not None and entry.kind == "tool"

    def __iter__(self) -> Iterator[str]:
        yield from self._generated
        yield from self._added

    def __len__(self) -> int:
        return len(self._generated) + len(self._added)

    def add(self, tool: ToolDef) -> None:
        if tool.name in self or tool.name in self._catalog:
            raise ValueError(f"two tools are named {tool.name!r}")
        self._added[tool.name] = tool

    def scopes_of(self, name: str) -> tuple[str, ...]:
        """The scopes a caller needs for tool `name`, without importing its module."""
        added = self._added.get(name)
        if added is not None:
            return added.scopes
        entry = self._catalog.get(name)
        return entry.scopes if entry is not None else ()

    def listed(self) -> list[tuple[str, bytes]]:
        """Every tool's name and JSON as tools/list sends it, in order."""
        generated = [(e.name, e.raw) for e in self._catalog.entries if e.kind == "tool"]
        added = [(name, tool_bytes(tool.wire())) for name, tool in self._added.items()]
        return [*generated, *added]


class ApiServer(MCPServer[Any]):
    """An MCPServer whose tools are precomputed: tools/list is built once, never per request,
    and a generated tool's module is imported only when the tool is first called."""

    def __init__(
        self,
        project: ProjectInfo,
        settings: Settings,
        operations: Sequence[ToolDef] | Catalog,
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
        basic = [s.variables for s in project.schemes.values() if s.kind == "basic"]
        self.redactor = Redactor.of(settings.credentials, [(u, p) for u, p, *_ in basic])
        redact_logs(self.redactor)
        self.upstream = Upstream(project, settings, learn=self.redactor.add)
        self.catalog = operations if isinstance(operations, Catalog) else Catalog.of(operations)
        self.tools = Tools(self.catalog)
        self.resources: dict[str, ToolDef] = {
            entry.name: self.catalog.load(entry.name)
            for entry in self.catalog
            if entry.kind != "tool"
        }
        self.splice_counts = SpliceCounts()
        self._stdio: SpliceStream | None = None
        self._listing: Listing | None = None
        self._handwritten: tuple[str, ...] = ()
        self._visible: dict[frozenset[str], frozenset[str] | None] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        self.custom_route("/healthz", methods=["GET"])(self._healthz)

    async def _healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "tools": len(self.tools)})

    def register(self, tool: ToolDef) -> None:
        """Add one operation as a tool (after the generated ones)."""
        self.tools.add(tool)
        self._listing = None
        self._visible.clear()

    def listed_tools(self) -> list[tuple[str, bytes]]:
        """The tools this server lists before any added with `@server.tool()`: each one's
        name and JSON."""
        return self.tools.listed()

    def all_scopes(self) -> frozenset[str]:
        """Every scope some operation needs (what the protected-resource metadata lists)."""
        found = {s for name in self.tools for s in self.tools.scopes_of(name)}
        return frozenset(found | {s for op in self.resources.values() for s in op.scopes})

    def visible_tool_names(self, scopes: frozenset[str] | None) -> frozenset[str] | None:
        """The tools a caller holding `scopes` may see and call; None means all.

        `scopes` is None when scopes do not apply (no auth, static bearer tokens): every tool
        is visible. Otherwise a generated tool is visible when its scopes are all granted;
        tools added by hand (custom.register) have no scopes and are always listed. None is
        also returned when that leaves every tool visible, so such callers share one listing.

        tools/list keeps one serialisation per distinct answer (runtime/listing.py), so the
        result is a cache key: keep it a frozenset (or None). Never imports a tool's module.
        """
        if scopes is None:
            return None
        if scopes in self._visible:
            return self._visible[scopes]
        hidden = {n for n in self.tools if not scopes.issuperset(self.tools.scopes_of(n))}
        visible = None
        if hidden:
            names = [n for n, _ in self.listed_tools()] + list(self._handwritten)
            visible = frozenset(n for n in names if n not in hidden)
        if len(self._visible) >= 256:
            self._visible.clear()
        self._visible[scopes] = visible
        return visible

    def required_scopes(self, method: str, params: Mapping[str, Any]) -> frozenset[str]:
        """The scopes a JSON-RPC request needs: those of the tool a tools/call names."""
        if method == "tools/call":
            name = str(params.get("name"))
            if name in self.tools:
                return frozenset(self.tools.scopes_of(name))
        return frozenset()

    def required_scopes_for_body(self, body: bytes) -> frozenset[str]:
        """The scopes every JSON-RPC request in an HTTP body needs (checked before the SDK
        handles it, so a missing scope is an HTTP 403 the client can act on)."""
        needed: frozenset[str] = frozenset()
        for method, params in jsonrpc_calls(body):
            needed |= self.required_scopes(method, params)
        return needed

    async def listing(self) -> Listing:
        """The listing, rebuilt only when the set of hand-written tools changed."""
        handwritten = await MCPServer.list_tools(self)
        names = tuple(tool.name for tool in handwritten)
        if self._listing is None or names != self._handwritten:
            dumped = [
                t.model_dump(by_alias=True, mode="json", exclude_none=True) for t in handwritten
            ]
            tools = [*self.listed_tools(), *((d["name"], tool_bytes(d)) for d in dumped)]
            self._listing = Listing(tools, self.app_settings.tools_page_size, dumped)
            self._handwritten = names
            self._visible.clear()
        return self._listing

    async def list_tools(self) -> list[MCPTool]:
        """The generated tools, then any added with `@server.tool()` in custom.register."""
        listing = await self.listing()
        return [MCPTool.model_validate(tool) for tool in listing.tools]

    async def _handle_list_tools(self, ctx: Any, params: Any) -> dict[str, Any]:  # type: ignore[override]
        """tools/list from the precomputed listing (see runtime/listing.py), one
        serialisation per set of visible tools: the caller's scopes choose the set
        (`visible_tool_names`).

        This overrides a private method of `mcp` 2.3 (`MCPServer._handle_list_tools`, the
        handler its request router calls for tools/list), which is why generated projects
        pin `mcp` to the 2.3 series; a test in mcpgen fails when the SDK stops calling it,
        or when the bytes swapped in stop matching what the SDK itself would send. When the
        SDK offers a public way to answer tools/list with ready bytes, use that.
        """
        listing = await self.listing()
        request = getattr(ctx, "request", None)
        visible = self.visible_tool_names(caller_scopes())
        page = listing.page(getattr(params, "cursor", None), visible)
        mark = mark_of(request)
        if mark is None and request is None and self._stdio is not None:
            mark = ListingMark(self._stdio.pending)
            mark = mark if mark.usable() else None
        if mark is None:
            return listing.result(page)
        array = listing.array(str(ctx.protocol_version), page)
        return {**listing.envelope(page), "tools": [mark.placeholder(array)]}

    async def run_stdio_async(
        self,
        *,
        stdin: anyio.AsyncFile[str] | None = None,
        stdout: anyio.AsyncFile[str] | None = None,
    ) -> None:
        """Serve over stdio as the SDK does (`MCPServer.run_stdio_async`, whose body this
        repeats), with tools/list answered from the precomputed bytes (`SpliceStream`).
        `stdin` and `stdout` replace the process's own (tests)."""
        async with stdio_server(stdin, stdout) as (read_stream, write_stream):
            self._stdio = SpliceStream(write_stream, self.splice_counts)
            try:
                lowlevel = self._lowlevel_server
                options = lowlevel.create_initialization_options()
                await lowlevel.run(read_stream, self._stdio, options)
            finally:
                self._stdio = None

    def validator(self, key: str, schema: dict[str, Any]) -> Draft202012Validator:
        """A cached validator for `schema`, under `key` (jsonschema is imported on the first
        call, not at start-up: importing it costs a tenth of a second)."""
        if key not in self._validators:
            from jsonschema import Draft202012Validator

            self._validators[key] = Draft202012Validator(schema)
        return self._validators[key]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult:
        tool = self.tools.get(name)
        if tool is not None:
            return await self.invoke(tool, arguments, context)
        if any(listed.name == name for listed in await MCPServer.list_tools(self)):
            handwritten = await super().call_tool(name, arguments, context)
            if isinstance(handwritten, CallToolResult):
                return handwritten
        raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {name}")

    async def invoke(
        self, tool: ToolDef, arguments: dict[str, Any], context: Context[Any, Any] | None
    ) -> CallToolResult:
        """Check the arguments, call the upstream API through the tool's handler, shape the
        reply; every text of the result is redacted of known credentials, and of those the
        call used on behalf of its user (see `redaction.mask_in_call`)."""
        scope = call_scope()
        try:
            try:
                result = await self._invoke(tool, arguments, context)
            except Exception:
                # The tool call's outermost layer (a hook in custom.py, or a fault of the
                # runtime itself). The SDK would send the exception's own text to the client,
                # and that text may hold arguments or headers: the client gets a fixed message,
                # the log the traceback (redacted like every log record).
                logger.exception("Tool %r failed inside the server", tool.name)
                result = error_result(
                    f"{tool.name} failed inside the server (an unexpected error, logged there)."
                )
            return self.redactor.result(result)
        finally:
            end_call(scope)

    async def _invoke(
        self, tool: ToolDef, arguments: dict[str, Any], context: Context[Any, Any] | None
    ) -> CallToolResult:
        name = tool.name
        granted = caller_scopes()
        if granted is not None and not granted.issuperset(tool.scopes):
            return error_result(
                f"{name} needs the scope(s) {' '.join(tool.scopes)}: authorize this client "
                "with them to use it"
            )
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
    """The Streamable HTTP app: MCP at /mcp (stateless), GET /healthz outside any auth,
    GET /metrics, what `MCP_AUTH_MODE` adds (`auth.install_auth`), tools/list answered from
    precomputed bytes (runtime/listing.py) inside any auth, and a JSON log line per request
    (`observability`, outermost, so it sees refused requests too). Stops with a message when
    the settings would serve an open server on a public address.

    A POST body is read once, by `RequestGuard`, and shared by every layer behind it; the
    SDK's own body limit is `MCP_MAX_REQUEST_BYTES` too (`limits.SharedBodyLimit`)."""
    settings = server.app_settings
    check_listen_address(settings)
    app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(settings),
        host=settings.host,
        max_request_body_size=settings.max_request_bytes,
    )
    manager = server.session_manager
    manager.asgi_app = SharedBodyLimit(manager.asgi_app.app, manager.asgi_app.max_body_size)
    app.add_middleware(SpliceListings, counts=server.splice_counts)
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
    app.add_middleware(RequestGuard, path="/mcp", max_bytes=settings.max_request_bytes)
    return observe_http(server, app)


def create_sse_app(server: ApiServer) -> Starlette:
    """The legacy HTTP+SSE app (GET /sse, POST /messages/), tools/list answered from
    precomputed bytes as over Streamable HTTP; a POSTed message is capped at
    `MCP_MAX_REQUEST_BYTES`, as over Streamable HTTP (the SDK answers 413)."""
    settings = server.app_settings
    app = server.sse_app(
        transport_security=transport_security(settings),
        host=settings.host,
        max_request_body_size=settings.max_request_bytes,
    )
    app.add_middleware(SpliceListings, counts=server.splice_counts, across_requests=True)
    return app
