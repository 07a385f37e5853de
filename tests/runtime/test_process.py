"""The runtime as a process (`runtime.cli`): OpenTelemetry traces into a real OTLP receiver,
`traceparent` sent upstream, and the drain on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support import mcpclient, net, procs

ROOT = Path(__file__).resolve().parents[2]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "get_item", "arguments": {"itemId": "slow"}},
}
HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}


@dataclass
class Upstream:
    """Answers GET /base/items/{id}; `delay` seconds late. Records the headers it got."""

    delay: float = 0.0
    headers: list[dict[str, str]] = field(default_factory=list)

    async def item(self, request: Request) -> Response:
        self.headers.append(dict(request.headers))
        await asyncio.sleep(self.delay)
        return JSONResponse({"id": request.path_params["item_id"]})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/base/items/{item_id}", self.item)])


@dataclass
class Receiver:
    """A real OTLP/HTTP trace receiver: POST /v1/traces with protobuf bodies."""

    spans: list[Span] = field(default_factory=list)

    async def traces(self, request: Request) -> Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.body())
        for resource in message.resource_spans:
            for scope in resource.scope_spans:
                self.spans.extend(scope.spans)
        return Response(b"", media_type="application/x-protobuf")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/traces", self.traces, methods=["POST"])])


@contextmanager
def demo_server(env: dict[str, str]) -> Iterator[tuple[procs.RunningProcess, str]]:
    port = net.free_port()
    argv = [sys.executable, "-m", "tests.runtime.demo_server", "--port", str(port)]
    full = {"PYTHONPATH": f"{ROOT}:{ROOT / 'generator'}", **env}
    url = f"http://127.0.0.1:{port}"
    with procs.start_process(argv, env=full, cwd=ROOT, ready_url=f"{url}/healthz") as proc:
        yield proc, url


def test_a_traced_request_has_a_server_span_and_a_client_span_sent_upstream() -> None:
    upstream, receiver = Upstream(), Receiver()
    with net.serve_in_thread(upstream.app()) as up, net.serve_in_thread(receiver.app()) as otlp:
        env = {
            "UPSTREAM_BASE_URL": f"{up}/base",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp,
            "OTEL_BSP_SCHEDULE_DELAY": "50",
            "OTEL_SERVICE_NAME": "demo-traced",
        }
        with demo_server(env) as (_, url):
            traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
            result = mcpclient.call_tool_sync(
                f"{url}/mcp",
                "get_item",
                {"itemId": "a1"},
                headers={"traceparent": traceparent},
                mode="2026-07-28",
            )
            assert not result.is_error
            deadline = time.monotonic() + 10
            while not any(s.kind == Span.SPAN_KIND_CLIENT for s in receiver.spans):
                assert time.monotonic() < deadline, "no client span reached the receiver"
                time.sleep(0.05)
    by_id = {s.span_id.hex(): s for s in receiver.spans}
    traced = [s for s in receiver.spans if s.trace_id.hex() == TRACE_ID]
    server = next(s for s in traced if s.name == "POST /mcp" and s.kind == Span.SPAN_KIND_SERVER)
    assert server.parent_span_id.hex() == PARENT_ID
    client = next(s for s in traced if s.kind == Span.SPAN_KIND_CLIENT)
    assert client.name == "GET /items/{id}"
    # the client span descends from the request's server span
    parent = by_id[client.parent_span_id.hex()]
    while parent.span_id != server.span_id:
        parent = by_id[parent.parent_span_id.hex()]
    (sent,) = upstream.headers
    assert sent["traceparent"] == f"00-{TRACE_ID}-{client.span_id.hex()}-01"


def test_no_trace_header_goes_upstream_when_tracing_is_off() -> None:
    upstream = Upstream()
    with (
        net.serve_in_thread(upstream.app()) as up,
        demo_server({"UPSTREAM_BASE_URL": f"{up}/base"}) as (_, url),
    ):
        traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
        mcpclient.call_tool_sync(
            f"{url}/mcp", "get_item", {"itemId": "a"}, headers={"traceparent": traceparent}
        )
    assert "traceparent" not in upstream.headers[0]


def test_sigterm_drains_calls_in_flight_then_exits_0() -> None:
    """A call in flight when SIGTERM arrives still completes; new connections are refused
    at once; the process exits 0 well within MCP_SHUTDOWN_TIMEOUT."""
    upstream = Upstream(delay=3.0)
    with net.serve_in_thread(upstream.app()) as up:
        env = {"UPSTREAM_BASE_URL": f"{up}/base", "MCP_SHUTDOWN_TIMEOUT": "10"}
        with demo_server(env) as (proc, url):
            outcome: dict[str, httpx.Response] = {}

            def slow_call() -> None:  # one POST: the SDK client would ask more afterwards
                outcome["reply"] = httpx.post(f"{url}/mcp", json=CALL, headers=HEADERS, timeout=15)

            caller = threading.Thread(target=slow_call)
            caller.start()
            deadline = time.monotonic() + 10
            while not upstream.headers:  # the call has reached the upstream
                assert time.monotonic() < deadline
                time.sleep(0.01)
            deadline = time.monotonic() + 2.5  # the upstream answers after 3 s
            proc.popen.send_signal(signal.SIGTERM)
            refused_at = None
            while refused_at is None and time.monotonic() < deadline:
                try:
                    httpx.get(f"{url}/healthz", timeout=1)
                except httpx.ConnectError:
                    refused_at = time.monotonic()
                time.sleep(0.02)
            assert refused_at is not None, "new connections were still accepted"
            assert caller.is_alive(), "the call in flight had ended before the listener closed"
            caller.join(timeout=15)
            status = proc.popen.wait(timeout=15)
            log = proc.stderr()
    reply = outcome["reply"]
    assert reply.status_code == 200, reply.text
    assert reply.json()["result"]["structuredContent"] == {"id": "slow"}
    assert status == 0, log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(line.get("tool") == "get_item" and line["outcome"] == "ok" for line in lines)
    assert any("SIGTERM" in line["message"] for line in lines)
