"""Prometheus metrics of one server, and `GET /metrics` to read them.

Each server has a registry of its own (two servers in one process, as in tests, never mix
their counts). Label values are bounded: `tool` is a tool the server has (anything else is
counted as `(unknown)`), status classes are `2xx` to `5xx` or `error` (no reply at all).

Where `/metrics` answers (see `Operations` in `config`):
- `MCP_METRICS_PORT` set: on that port only, on a listener of its own (`MCP_METRICS_HOST`,
  default `MCP_HOST`), for a scraper on a private network (Fly's `[metrics]`);
- else `MCP_METRICS_TOKEN` set: on the server's port, to `Authorization: Bearer <token>`;
- else on the server's port only while it listens on loopback; a server on any other
  address answers 403 until one of the two is set;
- `MCP_METRICS=false`: nowhere.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, start_wsgi_server
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from .config import Settings

__all__ = [
    "UNKNOWN_TOOL",
    "Metrics",
    "is_loopback",
    "metrics_handler",
    "refusal",
    "serve_metrics_port",
    "status_class",
]

UNKNOWN_TOOL = "(unknown)"
# Seconds; MCP tool calls wrap an HTTP call, so most fall between 5 ms and a few seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def status_class(status: int | None) -> str:
    """`2xx` ... `5xx`, or `error` when no reply came."""
    return "error" if status is None else f"{status // 100}xx"


class Metrics:
    """The counters, histograms and gauges of one server."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.tool_calls = Counter(
            "mcp_tool_calls", "Tool calls, by tool and outcome.", ["tool", "outcome"],
            registry=registry,
        )  # fmt: skip
        self.tool_errors = Counter(
            "mcp_tool_errors", "Tool calls that ended in an error result or a protocol error.",
            ["tool"], registry=registry,
        )  # fmt: skip
        self.tool_latency = Histogram(
            "mcp_tool_call_duration_seconds", "Time to answer a tool call, by tool.", ["tool"],
            buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.upstream = Counter(
            "mcp_upstream_responses", "Upstream API calls, by tool and HTTP status class.",
            ["tool", "status_class"], registry=registry,
        )  # fmt: skip
        self.upstream_latency = Histogram(
            "mcp_upstream_request_duration_seconds", "Time an upstream API call took.",
            buckets=LATENCY_BUCKETS, registry=registry,
        )  # fmt: skip
        self.requests = Counter(
            "mcp_http_requests", "HTTP requests to the MCP endpoint, by status class.",
            ["status_class"], registry=registry,
        )  # fmt: skip
        self.in_flight = Gauge(
            "mcp_http_requests_in_flight", "HTTP requests being served now.", registry=registry
        )

    def exposition(self) -> bytes:
        """The Prometheus text format (0.0.4) of every metric."""
        return generate_latest(self.registry)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refusal(settings: Settings) -> tuple[int, str] | None:
    """The status and message `/metrics` on the server's own port answers with, or None
    when it serves the metrics (see the module's text)."""
    ops = settings.ops
    if not ops.metrics or ops.metrics_port is not None:
        return (404, "Not Found")
    if ops.metrics_token or is_loopback(settings.host):
        return None
    return (
        403,
        "/metrics is closed on a server reachable from other hosts: set MCP_METRICS_TOKEN "
        "(then send Authorization: Bearer <token>) or MCP_METRICS_PORT (a port of its own)",
    )


def metrics_handler(
    metrics: Metrics, settings: Settings
) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint for `GET /metrics` on the server's own port."""
    closed = refusal(settings)
    expected = f"Bearer {settings.ops.metrics_token}".encode()

    async def handler(request: Request) -> Response:
        if closed is not None:
            return PlainTextResponse(closed[1], status_code=closed[0])
        if settings.ops.metrics_token:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return PlainTextResponse(
                    "send Authorization: Bearer <MCP_METRICS_TOKEN>",
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                )
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    return handler


def serve_metrics_port(metrics: Metrics, settings: Settings) -> WSGIServer | None:
    """Serve `/metrics` on MCP_METRICS_PORT from a thread, when set; the caller shuts the
    returned server down."""
    ops = settings.ops
    if not ops.metrics or ops.metrics_port is None:
        return None
    host = ops.metrics_host or settings.host
    try:
        server, _thread = start_wsgi_server(ops.metrics_port, addr=host, registry=metrics.registry)
    except OSError as exc:
        raise SystemExit(
            f"MCP_METRICS_PORT: cannot listen on {host}:{ops.metrics_port} ({exc.strerror})"
        ) from None
    return server
