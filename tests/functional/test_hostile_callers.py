"""Hostile callers and bad input at the MCP layer, against a generated server in its own process.

The server is generated from the inline spec below with the real CLI and started as a
deployment would start it; its upstream records every request on 127.0.0.1. Each case of the
security review is a test; then the secret scan greps every line the server logged and every
tool result of this module for each credential the server holds.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp.types import CallToolResult
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support import mcpclient, net, procs, project
from tests.support.secrets import SecretScan

HEADER_KEY = "hdr-key-8d41c7e2"
QUERY_KEY = "qry-key-3b90aa51"
COOKIE_KEY = "sid-key-c5e27f08"
PROTOCOL = "2025-11-25"
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Hostile callers", "version": "1.0.0"},
    "servers": [{"url": "http://127.0.0.1:9"}],
    "components": {
        "securitySchemes": {
            "header": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            "query": {"type": "apiKey", "in": "query", "name": "api_key"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "sid"},
        }
    },
    "security": [{"header": [], "query": [], "cookie": []}],
    "paths": {
        "/things": {
            "get": {
                "operationId": "listThings",
                "parameters": [
                    {"name": "pref", "in": "cookie", "schema": {"type": "string"}},
                    {"name": "X-Api-Key", "in": "header", "schema": {"type": "string"}},
                    {"name": "api_key", "in": "query", "schema": {"type": "string"}},
                    {"name": "sid", "in": "cookie", "schema": {"type": "string"}},
                    {"name": "X-Note", "in": "header", "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "ok", "content": {"application/json": {}}}},
            }
        },
        "/books": {
            "post": {
                "operationId": "createBook",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["title"],
                                "properties": {
                                    "title": {"type": "string"},
                                    "tags": {"type": "array", "items": {"type": "string"}},
                                    "extra": {"type": "object"},
                                },
                            }
                        }
                    },
                },
                "responses": {"201": {"description": "created"}},
            }
        },
    },
}


@dataclass
class Upstream:
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def things(self, request: Request) -> Response:
        self.seen.append(
            {
                "query": request.url.query,
                "headers": dict(request.headers),
                "cookies": request.headers.get("cookie", ""),
            }
        )
        if request.query_params.get("q") == "echo-the-key":
            # An upstream that puts the caller's credentials in its error message.
            message = f"key {request.headers.get('x-api-key')} / {request.query_params}"
            return JSONResponse({"message": message}, status_code=401)
        return JSONResponse({"ok": True})

    async def books(self, request: Request) -> Response:
        self.seen.append({"body": (await request.body())[:100]})
        return JSONResponse({"id": "b1"}, status_code=201)


@dataclass
class Running:
    url: str
    base: str
    upstream: Upstream
    process: procs.RunningProcess
    results: list[str]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("hostile-callers")
    spec = root / "openapi.json"
    spec.write_text(json.dumps(SPEC), encoding="utf-8")
    generated = project.generate(spec, root / "project", "--name", "hostile")
    upstream = Upstream()
    app = Starlette(
        routes=[
            Route("/things", upstream.things, methods=["GET"]),
            Route("/books", upstream.books, methods=["POST"]),
        ]
    )
    port = net.free_port()
    with net.serve_in_thread(app) as base:
        env = {
            "PYTHONPATH": str(generated / "src"),
            "UPSTREAM_BASE_URL": base,
            "UPSTREAM_HEADER_KEY": HEADER_KEY,
            "UPSTREAM_QUERY_KEY": QUERY_KEY,
            "UPSTREAM_COOKIE_KEY": COOKIE_KEY,
        }
        argv = [sys.executable, "-m", "hostile_mcp", "--transport", "http", "--port", str(port)]
        with procs.start_process(
            argv, env=env, ready_url=f"http://127.0.0.1:{port}/healthz", ready_timeout=60
        ) as process:
            running = Running(f"http://127.0.0.1:{port}/mcp", base, upstream, process, [])
            yield running
            scan = SecretScan()
            scan.add(HEADER_KEY, QUERY_KEY, COOKIE_KEY)
            scan.check(process.stderr().splitlines(), "the server's log")
            scan.check(process.stdout().splitlines(), "the server's output")
            scan.check(running.results, "tool results")


def call(server: Running, name: str, arguments: dict[str, Any]) -> CallToolResult:
    result = mcpclient.call_tool_sync(server.url, name, arguments, mode="legacy")
    server.results.append(result.model_dump_json())
    return result


def text(result: CallToolResult) -> str:
    return mcpclient.text_of(result)


RAW_EXCEPTION_TEXT = ("codec", "Traceback", "URL too long", "recursion", "Illegal header", "Error:")


def assert_clean_refusal(server: Running, result: CallToolResult, message: str) -> None:
    assert result.is_error, text(result)
    assert message in text(result)
    for raw in RAW_EXCEPTION_TEXT:
        assert raw not in text(result), text(result)
    assert server.upstream.seen == []


@pytest.fixture
def fresh(server: Running) -> Running:
    server.upstream.seen.clear()
    return server


# --- the review's findings, one test each ---------------------------------------------------


def test_parameters_a_scheme_fills_are_not_arguments(fresh: Running) -> None:
    tools = {t.name: t for t in mcpclient.list_tools_sync(fresh.url, mode="legacy")}
    properties = set(tools["list_things"].input_schema["properties"])
    assert properties == {"pref", "X-Note", "q"}
    refused = call(fresh, "list_things", {"X-Api-Key": "attacker", "api_key": "attacker"})
    assert_clean_refusal(fresh, refused, "Additional properties are not allowed")


@pytest.mark.parametrize("value", ["x\x00y", "x\ry", "x\ny"])
def test_cookie_values_with_control_characters_are_refused(fresh: Running, value: str) -> None:
    result = call(fresh, "list_things", {"pref": value})
    assert_clean_refusal(fresh, result, "cookie 'pref' must not contain control characters")
    assert value not in text(result)


def test_a_cookie_value_cannot_add_a_cookie(fresh: Running) -> None:
    result = call(fresh, "list_things", {"pref": "x; sid=attacker"})
    assert not result.is_error, text(result)
    (seen,) = fresh.upstream.seen
    cookies = dict(part.split("=", 1) for part in seen["cookies"].split("; "))
    assert cookies == {"pref": "x%3B%20sid=attacker", "sid": COOKIE_KEY}


def test_credentials_go_only_where_the_schemes_say(fresh: Running) -> None:
    call(fresh, "list_things", {"q": "books"})
    (seen,) = fresh.upstream.seen
    assert seen["query"] == f"q=books&api_key={QUERY_KEY}"
    assert seen["headers"]["x-api-key"] == HEADER_KEY


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"X-Note": "café"}, "header 'X-Note' must be ASCII text"),
        ({"X-Note": "a\x07b"}, "header 'X-Note' must not contain control characters"),
        ({"q": "x" * 70_000}, "make a request URL that cannot be sent"),
    ],
)
def test_no_raw_exception_text_reaches_the_client(
    fresh: Running, arguments: dict[str, Any], message: str
) -> None:
    result = call(fresh, "list_things", arguments)
    assert_clean_refusal(fresh, result, message)


def test_deep_arguments_are_refused_cleanly(fresh: Running) -> None:
    deep: Any = "x"
    for _ in range(150):
        deep = {"a": deep}
    result = call(fresh, "create_book", {"title": "t", "extra": deep})
    assert_clean_refusal(fresh, result, "nested deeper than 64 levels")


def test_upstream_error_text_is_redacted(fresh: Running) -> None:
    result = call(fresh, "list_things", {"q": "echo-the-key"})
    assert result.is_error and "401" in text(result)
    assert "key [redacted]" in text(result) and "api_key=[redacted]" in text(result)


def test_an_oversized_invalid_argument_does_not_stall_the_server(fresh: Running) -> None:
    """300,000 wrong-typed `tags` (0.9 MB): the call is refused with a short message, other
    requests (/healthz) keep being answered meanwhile, and the process stays small. It used
    to block every request for 5.5 s, grow the process by 450 MB and answer 12 MB."""
    health = fresh.url.replace("/mcp", "/healthz")
    worst = 0.0
    failures: list[BaseException] = []
    stop = threading.Event()

    def probe() -> None:
        nonlocal worst
        with httpx.Client(timeout=30, trust_env=False) as http:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    assert http.get(health).status_code == 200
                except BaseException as exc:  # a stalled or failed probe fails the test below
                    failures.append(exc)
                    return
                finally:
                    worst = max(worst, time.monotonic() - started)
                time.sleep(0.005)

    before = _peak_rss_mib(fresh.process.pid)
    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    try:
        result = call(fresh, "create_book", {"title": "t", "tags": [0] * 300_000})
    finally:
        stop.set()
        prober.join(35)
    assert not prober.is_alive() and not failures, f"/healthz did not answer: {failures}"
    growth = _peak_rss_mib(fresh.process.pid) - before
    print(f"300,000 tags: /healthz worst {worst * 1000:.0f} ms, peak RSS +{growth:.0f} MiB")
    assert_clean_refusal(fresh, result, "tags/0: 0 is not of type 'string'")
    assert len(text(result)) < 2000
    assert worst < 1.0, f"/healthz waited {worst:.2f} s while the call was checked"
    assert growth < 200, f"the server grew by {growth:.0f} MiB"


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


# --- HTTP and JSON-RPC at /mcp -----------------------------------------------------------------

HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": PROTOCOL,
}


def _rpc(method: str, params: Any, id_: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}


def _call(arguments: Any, name: str = "create_book") -> dict[str, Any]:
    return _rpc("tools/call", {"name": name, "arguments": arguments})


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"', {}, 400, -32700),
        (b"\xff\xfe not even text", {}, 400, -32700),
        (json.dumps({"id": 1, "method": 7}).encode(), {}, 400, None),
        (json.dumps([_rpc("tools/list", {})]).encode(), {}, 400, None),
        (json.dumps(_rpc("tools/list", {})).encode(), {"content-type": "text/plain"}, 415, None),
        (json.dumps(_rpc("tools/list", {})).encode(), {"accept": "text/html"}, 406, None),
        (b"x" * (2 * 1024 * 1024), {}, 413, -32600),
    ],
)
def test_malformed_requests_get_http_errors(
    fresh: Running, body: bytes, headers: dict[str, str], status: int, code: int | None
) -> None:
    reply = httpx.post(fresh.url, content=body, headers={**HEADERS, **headers}, timeout=30)
    assert reply.status_code == status, reply.text[:300]
    if code is not None:
        assert reply.json()["error"]["code"] == code
    _still_up(fresh)


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (_rpc("no/such/method", {}), -32601),
        (_rpc("tools/call", {"arguments": {}}), -32602),
        (_call("title=t"), -32602),
        (_call(["t"]), -32602),
        (_rpc("tools/call", {"name": "no_such_tool", "arguments": {}}), -32602),
    ],
)
def test_bad_json_rpc_gets_json_rpc_errors(
    fresh: Running, message: dict[str, Any], code: int
) -> None:
    reply = httpx.post(fresh.url, json=message, headers=HEADERS, timeout=30)
    assert reply.status_code in (200, 400, 404), reply.text[:300]
    assert reply.json()["error"]["code"] == code, reply.text[:300]
    _still_up(fresh)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"title": 5}, "title: 5 is not of type 'string'"),
        ({"title": "t", "tags": "a,b"}, "tags: 'a,b' is not of type 'array'"),
        ({"tags": ["a"]}, "'title' is a required property"),
        ({"title": "t", "author": "x"}, "Additional properties are not allowed"),
        ({"title": "t" * 500_000, "tags": [None] * 50_000}, "tags/0: None is not of type"),
    ],
)
def test_wrong_arguments_are_tool_errors(
    fresh: Running, arguments: dict[str, Any], message: str
) -> None:
    reply = httpx.post(fresh.url, json=_call(arguments), headers=HEADERS, timeout=30)
    assert reply.status_code == 200
    result = reply.json()["result"]
    assert result["isError"] is True and message in result["content"][0]["text"]
    assert len(reply.content) < 5000
    fresh.results.append(reply.text)
    assert fresh.upstream.seen == []


def test_get_on_the_stateless_endpoint_is_405(fresh: Running) -> None:
    """An SSE-only client pointed at /mcp fails at once instead of hanging on an empty stream."""
    reply = httpx.get(fresh.url, headers={"accept": "text/event-stream"}, timeout=5)
    assert reply.status_code == 405 and reply.headers["allow"] == "POST"


def test_the_log_has_no_per_request_noise(server: Running) -> None:
    anyio.run(mcpclient.list_tools, server.url)
    log = server.process.stderr()
    assert "Terminating session" not in log
    assert "HTTP Request:" not in log  # httpx's INFO line: the full URL of every call


def _still_up(server: Running) -> None:
    health = httpx.get(server.url.replace("/mcp", "/healthz"), timeout=5)
    assert health.status_code == 200
    assert server.upstream.seen == []
