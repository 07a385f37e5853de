"""What the server tells its operators: a log line per request and per upstream call,
Prometheus metrics, and OpenTelemetry traces when configured.

Three hooks feed one record per request (an `Exchange`, held in a context variable):
- `HttpObserver`, ASGI middleware around the whole HTTP app: request id, status, latency,
  in-flight gauge, the request line, and the server span when tracing is on;
- `Observer.rpc`, SDK middleware around every JSON-RPC message (HTTP and stdio alike): the
  method, the tool, its outcome and the per-tool metrics;
- `UPSTREAM_HOOKS`, httpx event hooks on the upstream client: one line, one metric and one
  client span per upstream call, with the W3C `traceparent` header sent upstream.

What is never logged: tokens, credentials, headers, query strings, bodies, and argument
values (`MCP_LOG_ARGUMENTS=true` adds the tool's argument values to the request line, for
debugging only). Upstream calls are named by their path template (`/books/{bookId}`),
never by the path sent, which holds argument values.

Tracing is on only when the `otel` extra is installed and the standard variables ask for
it (`OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_SDK_DISABLED=true` wins). Off, no span is made
and no header is added.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from mcp import MCPError
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import log_event
from .metrics import UNKNOWN_TOOL, Metrics, metrics_handler, status_class

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer

    from .definitions import ProjectInfo
    from .server import ApiServer

__all__ = [
    "UPSTREAM_HOOKS",
    "Exchange",
    "HttpObserver",
    "Observer",
    "configure_tracing",
    "current_exchange",
    "observe_http",
    "observe_server",
]

logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # a caller's X-Request-Id kept as is
_QUIET_PATHS = frozenset({"/healthz", "/metrics"})  # probed every few seconds: DEBUG only


class _Tracing:
    tracer: Tracer | None = None  # set by configure_tracing when OTEL_* ask for traces


_tracing = _Tracing()


@dataclass
class UpstreamCall:
    started: float
    method: str
    span: Span | None = None


@dataclass
class Exchange:
    """One request: what its log line and metrics say about it."""

    observer: Observer
    request_id: str
    started: float = field(default_factory=time.perf_counter)
    rpc_method: str | None = None
    tool: str | None = None
    operation: str | None = None  # in compact exposure: the operation call_operation ran
    endpoint: tuple[str, str] | None = None  # the tool's (method, path template)
    outcome: str = "ok"
    arguments: Any = None
    upstream_calls: int = 0
    pending: dict[int, UpstreamCall] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        found: dict[str, Any] = {"request_id": self.request_id}
        for key in ("rpc_method", "tool", "operation"):
            if getattr(self, key) is not None:
                found[key] = getattr(self, key)
        return found


_current: ContextVar[Exchange | None] = ContextVar("mcp_exchange", default=None)


def current_exchange() -> Exchange | None:
    """The request being served in this task, if any."""
    return _current.get()


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


class Observer:
    """The metrics and hooks of one server."""

    def __init__(self, server: ApiServer) -> None:
        self.server = server
        self.settings = server.app_settings
        self.metrics = Metrics()
        self._known: frozenset[str] | None = None

    async def _tool_label(self, name: str) -> str:
        if self._known is None:
            listed = await self.server.list_tools()
            self._known = frozenset([*self.server.tools, *(tool.name for tool in listed)])
        return name if name in self._known else UNKNOWN_TOOL

    async def rpc(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """SDK middleware: every JSON-RPC message passes through here."""
        exchange = _current.get()
        own = exchange is None or exchange.observer is not self  # stdio: no HTTP layer above
        if own:
            exchange = Exchange(self, uuid.uuid4().hex)
        assert exchange is not None
        token = _current.set(exchange) if own else None
        exchange.rpc_method = ctx.method
        params = ctx.params or {}
        name = params.get("name") if ctx.method == "tools/call" else None
        label = None
        if isinstance(name, str):
            label = await self._tool_label(name)
            exchange.tool = name if label != UNKNOWN_TOOL else UNKNOWN_TOOL
            self._note_operation(exchange, name, params.get("arguments"))
            if self.settings.ops.log_arguments:
                exchange.arguments = params.get("arguments")
        started = time.perf_counter()
        outcome = "ok"
        try:
            result = await call_next(ctx)
        except (MCPError, ValueError):  # a JSON-RPC error answer (ValueError: bad params)
            outcome = "error"
            raise
        else:
            if _is_tool_error(result):
                outcome = "tool_error"
            return result
        finally:
            if outcome != "ok":
                exchange.outcome = outcome
            if label is not None:
                metrics = self.metrics
                metrics.tool_calls.labels(label, outcome).inc()
                if outcome != "ok":
                    metrics.tool_errors.labels(label).inc()
                metrics.tool_latency.labels(label).observe(time.perf_counter() - started)
            if own:
                finish_upstream(exchange)
                _log_request(exchange, {"transport": "stdio"}, started)
                if token is not None:
                    _current.reset(token)

    def _note_operation(self, exchange: Exchange, name: str, arguments: Any) -> None:
        tool = self.server.tools.get(name)
        if tool is None and isinstance(arguments, dict) and isinstance(arguments.get("name"), str):
            # compact exposure: call_operation names the operation it runs
            tool = self.server.tools.get(arguments["name"]) if name == "call_operation" else None
            if tool is not None:
                exchange.operation = tool.name
        if tool is not None:
            exchange.endpoint = (tool.method, tool.path)


def _is_tool_error(result: HandlerResult) -> bool:
    if isinstance(result, CallToolResult):
        return bool(result.is_error)
    return isinstance(result, dict) and result.get("isError") is True


def _log_request(exchange: Exchange, extra: Mapping[str, Any], started: float) -> None:
    line = {
        "event": "request",
        **exchange.fields(),
        **extra,
        "outcome": exchange.outcome,
        "latency_ms": _ms(started),
        "upstream_calls": exchange.upstream_calls,
    }
    if exchange.arguments is not None:
        line["arguments"] = exchange.arguments
    log_event("request", line)


class HttpObserver:
    """ASGI middleware: the request line, request metrics and the server span."""

    def __init__(self, app: ASGIApp, observer: Observer) -> None:
        self.app = app
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        exchange = Exchange(self.observer, request_id)
        token = _current.set(exchange)
        metrics = self.observer.metrics
        metrics.in_flight.inc()
        status = 500
        traced = _server_span(scope, headers) if _tracing.tracer is not None else None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            exchange.outcome = "error"
            raise
        finally:
            metrics.in_flight.dec()
            _current.reset(token)
            finish_upstream(exchange)
            path = scope.get("path", "")
            if status >= 400 and exchange.outcome == "ok":
                exchange.outcome = "error"
            extra: dict[str, Any] = {"http_method": scope.get("method"), "path": path}
            extra["status"] = status
            version = headers.get(b"mcp-protocol-version")
            if version:
                extra["protocol_version"] = version.decode("latin-1")[:32]
            extra.update(_caller(scope))
            if path in _QUIET_PATHS:
                log_event("request", {"event": "request", **exchange.fields(), **extra},
                          level=logging.DEBUG)  # fmt: skip
            else:
                metrics.requests.labels(status_class(status)).inc()
                _log_request(exchange, extra, exchange.started)
            if traced is not None:
                _end_server_span(*traced, exchange, status)


def _caller(scope: Scope) -> dict[str, str]:
    """Who called, when auth is on: the token's subject and client, never the token."""
    token = getattr(scope.get("user"), "access_token", None)
    if token is None:
        return {}
    found = {"client_id": str(token.client_id)}
    if getattr(token, "subject", None):
        found["subject"] = str(token.subject)
    return found


# ---- upstream calls: httpx event hooks --------------------------------------------------


async def _on_upstream_request(request: httpx.Request) -> None:
    exchange = _current.get()
    if exchange is None:
        return
    call = UpstreamCall(time.perf_counter(), request.method)
    if _tracing.tracer is not None:
        call.span = _client_span(exchange, request)
    exchange.pending[id(request)] = call
    exchange.upstream_calls += 1


async def _on_upstream_response(response: httpx.Response) -> None:
    exchange = _current.get()
    if exchange is None:
        return
    call = exchange.pending.pop(id(response.request), None)
    if call is not None:
        _upstream_done(exchange, call, response.status_code)


def _upstream_done(exchange: Exchange, call: UpstreamCall, status: int | None) -> None:
    seconds = time.perf_counter() - call.started
    metrics = exchange.observer.metrics
    label = exchange.operation or exchange.tool or UNKNOWN_TOOL
    metrics.upstream.labels(label, status_class(status)).inc()
    metrics.upstream_latency.observe(seconds)
    method, path = exchange.endpoint or (call.method, "")
    line: dict[str, Any] = {
        "event": "upstream",
        **exchange.fields(),
        "upstream_method": method,
        "upstream_path": path,
        "upstream_status": status,
        "outcome": "ok" if status is not None and status < 400 else "error",
        "latency_ms": round(seconds * 1000, 3),
    }
    if status is None:
        line["error"] = "no reply: the connection failed or timed out"
    log_event("upstream", line)
    if call.span is not None:
        _end_client_span(call.span, status)


def finish_upstream(exchange: Exchange) -> None:
    """Upstream calls that never got a reply (refused, reset, timed out): logged as such."""
    for call in list(exchange.pending.values()):
        _upstream_done(exchange, call, None)
    exchange.pending.clear()


UPSTREAM_HOOKS: Mapping[str, list[Callable[[Any], Awaitable[None]]]] = {
    "request": [_on_upstream_request],
    "response": [_on_upstream_response],
}


# ---- wiring -----------------------------------------------------------------------------


_observers: weakref.WeakKeyDictionary[ApiServer, Observer] = weakref.WeakKeyDictionary()


def observe_server(server: ApiServer) -> Observer:
    """The server's observer, attached on first use (stdio uses only this)."""
    observer = _observers.get(server)
    if observer is None:
        observer = _observers[server] = Observer(server)
        server.middleware.append(observer.rpc)
    return observer


def observe_http(server: ApiServer, app: Starlette) -> Starlette:
    """Logs, metrics and traces around the HTTP app, and `GET /metrics`."""
    observer = observe_server(server)
    app.router.routes.append(
        Route("/metrics", metrics_handler(observer.metrics, observer.settings), methods=["GET"])
    )
    app.add_middleware(HttpObserver, observer=observer)
    app.state.observer = observer  # for the console script's metrics listener
    return app


# ---- OpenTelemetry (only with the `otel` extra, only when OTEL_* ask for it) ------------


def _tracing_wanted(env: Mapping[str, str]) -> bool:
    if (env.get("OTEL_SDK_DISABLED") or "").strip().lower() == "true":
        return False
    exporters = (env.get("OTEL_TRACES_EXPORTER") or "").strip().lower()
    if exporters:
        return exporters != "none"
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure_tracing(project: ProjectInfo, env: Mapping[str, str] | None = None) -> bool:
    """Set up the OpenTelemetry SDK from the OTEL_* variables; False when tracing is off."""
    env = os.environ if env is None else env
    if not _tracing_wanted(env):
        _tracing.tracer = None
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SpanExporter,
        )
    except ImportError:
        raise SystemExit(
            "OTEL_* variables ask for traces, but OpenTelemetry is not installed: "
            f"pip install '{project.script}[otel]'"
        ) from None
    resource = Resource.create(
        {} if env.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: project.script}
    )
    provider = TracerProvider(resource=resource)
    names = [n.strip() for n in (env.get("OTEL_TRACES_EXPORTER") or "otlp").lower().split(",")]
    for name in names:
        exporter: SpanExporter
        if name == "console":
            exporter = ConsoleSpanExporter(out=sys.stderr)
        elif name == "otlp":
            protocol = (
                env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                or "http/protobuf"
            )
            if protocol != "http/protobuf":
                raise SystemExit(
                    f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol} is not supported: use http/protobuf"
                )
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        elif name == "none":
            continue
        else:
            raise SystemExit(f"OTEL_TRACES_EXPORTER: unknown exporter {name!r} (otlp, console)")
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _tracing.tracer = trace.get_tracer("mcp-server", project.version)
    return True


def shutdown_tracing() -> None:
    """Flush spans still queued (at exit)."""
    if _tracing.tracer is None:
        return
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    shutdown = getattr(provider, "shutdown", None)
    if callable(shutdown):
        shutdown()


def _server_span(scope: Scope, headers: Mapping[bytes, bytes]) -> tuple[Span, Token[Context]]:
    """The request's server span, current until `_end_server_span`; its parent is the
    caller's `traceparent`, if any."""
    from opentelemetry.context import attach
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind, set_span_in_context

    assert _tracing.tracer is not None

    carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers.items()}
    method = scope.get("method", "")
    span = _tracing.tracer.start_span(
        f"{method} {scope.get('path', '')}",
        context=extract(carrier),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "url.path": scope.get("path", "")},
    )
    return span, attach(set_span_in_context(span))


def _end_server_span(span: Span, attached: Token[Context], exchange: Exchange, status: int) -> None:
    from opentelemetry.context import detach
    from opentelemetry.trace import StatusCode

    detach(attached)

    span.set_attribute("http.response.status_code", status)
    for key, value in exchange.fields().items():
        span.set_attribute(f"mcp.{key}", value)
    if exchange.outcome != "ok":
        span.set_status(StatusCode.ERROR)
    span.end()


def _client_span(exchange: Exchange, request: httpx.Request) -> Span:
    from opentelemetry.propagate import inject
    from opentelemetry.trace import SpanKind, set_span_in_context

    assert _tracing.tracer is not None
    method, path = exchange.endpoint or (request.method, "")
    span = _tracing.tracer.start_span(
        f"{method} {path}".strip(),
        kind=SpanKind.CLIENT,
        attributes={
            "http.request.method": method,
            "url.template": path,
            "mcp.tool": exchange.tool or "",
        },
    )
    carrier: dict[str, str] = {}
    inject(carrier, context=set_span_in_context(span))
    for key, value in carrier.items():
        request.headers[key] = value
    return span


def _end_client_span(span: Span, status: int | None) -> None:
    from opentelemetry.trace import StatusCode

    if status is not None:
        span.set_attribute("http.response.status_code", status)
    if status is None or status >= 400:
        span.set_status(StatusCode.ERROR)
    span.end()
