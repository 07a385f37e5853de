"""Bounds on what one caller can make the server do (mcpgen.runtime.limits), and the
redaction of credentials from logs (mcpgen.runtime.redaction)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import anyio
import httpx
import pytest
from jsonschema import Draft202012Validator
from mcp.server.auth.provider import AccessToken
from mcp.types import CallToolResult, TextContent
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcpgen.runtime.auth import AuthGate, StaticTokens
from mcpgen.runtime.config import AuthConfig, Settings
from mcpgen.runtime.limits import (
    MAX_DEPTH,
    InputTooDeepError,
    buffered_body,
    check_arguments,
    problems,
)
from mcpgen.runtime.redaction import Redactor, redact_logs
from mcpgen.runtime.server import ApiServer, create_http_app, create_sse_app
from tests.runtime.conftest import make_project
from tests.runtime.test_server import ITEM
from tests.support import net

TAGS = Draft202012Validator(
    {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
        "additionalProperties": False,
    }
)


def test_validation_stops_after_a_few_problems() -> None:
    """300,000 wrong-typed items: five problems and a note, not 300,000 (which took 5.5 s,
    450 MB and a 12 MB message)."""
    seen = 0

    class Counting:
        def iter_errors(self, instance: Any) -> Iterator[Any]:
            nonlocal seen
            for error in TAGS.iter_errors(instance):
                seen += 1
                yield error

    counting = cast(Draft202012Validator, Counting())
    found = problems(counting, {"tags": list(range(300_000))})
    assert found[:2] == ["tags/0: 0 is not of type 'string'", "tags/1: 1 is not of type 'string'"]
    assert len(found) == 6 and found[-1] == "… (more problems not shown)"
    assert seen == 6


def test_each_problem_is_bounded() -> None:
    found = problems(TAGS, {"tags": "x" * 1_000_000})
    assert len(found) == 1 and len(found[0]) <= 300 + len("tags: ")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_deep_arguments_are_refused_without_recursion(anyio_backend: str) -> None:
    deep: Any = "leaf"
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(InputTooDeepError, match=f"deeper than {MAX_DEPTH} levels"):
        await check_arguments(TAGS, {"tags": deep})
    shallow: Any = "leaf"
    for _ in range(MAX_DEPTH - 2):
        shallow = [shallow]
    (problem,) = await check_arguments(TAGS, {"tags": shallow})
    assert problem.startswith("tags/0: [[[") and problem.endswith("]] is not of type 'string'")


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_large_arguments_are_checked_off_the_event_loop(anyio_backend: str) -> None:
    """While 50,000 valid items are checked, the event loop keeps running other work."""
    ticks = 0
    done = anyio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await anyio.sleep(0.001)

    async with anyio.create_task_group() as group:
        group.start_soon(ticker)
        await anyio.sleep(0.01)
        before = ticks
        found = await check_arguments(TAGS, {"tags": ["x"] * 50_000})
        during = ticks - before
        done.set()
    assert found == []
    assert during > 1, "the event loop was blocked while the arguments were checked"


# --- the HTTP front of /mcp ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def mcp_url() -> Iterator[str]:
    settings = Settings(max_request_bytes=100_000)
    app = create_http_app(ApiServer(make_project(), settings, [ITEM]))
    with net.serve_in_thread(app) as url:
        yield url + "/mcp"


HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT", "PATCH"])
def test_methods_other_than_post_get_405(mcp_url: str, method: str) -> None:
    """A stateless server has no stream to offer on GET: an SSE client fails at once instead
    of waiting forever on an empty stream."""
    reply = httpx.request(method, mcp_url, headers=HEADERS, timeout=5)
    assert reply.status_code == 405 and reply.headers["allow"] == "POST"
    assert reply.json()["error"]["code"] == -32600


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), 8192):
        yield data[start : start + 8192]


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_over_the_cap_is_refused_before_it_is_parsed(mcp_url: str, declared: bool) -> None:
    big = json.dumps({**LIST, "params": {"pad": "x" * 200_000}}).encode()
    content = big if declared else _chunks(big)  # a generator: chunked, no Content-Length
    reply = httpx.post(mcp_url, headers=HEADERS, content=content, timeout=5)
    assert reply.status_code == 413
    assert "over the 100,000-byte limit (MCP_MAX_REQUEST_BYTES)" in reply.json()["error"]["message"]
    small = httpx.post(mcp_url, headers=HEADERS, json=LIST, timeout=5)
    assert small.status_code == 200


# --- the body is read once, and MCP_MAX_REQUEST_BYTES is the only cap --------------------------

MIB = 1024 * 1024
TOKEN = "body-test-token-0123456789"


class ScopedTokens(StaticTokens):
    """Static tokens that carry scopes, so the auth gate looks into each body for the scopes
    of the called tool (as it does for OAuth tokens) without an authorization server."""

    scoped = True

    async def verify(self, token: str) -> AccessToken:
        access = await super().verify(token)
        return access.model_copy(update={"scopes": ["items:read"]})


def _measuring_server(settings: Settings) -> ApiServer:
    server = ApiServer(make_project(), settings, [ITEM])

    @server.tool(name="measure", description="The length and SHA-256 of a text.")
    async def measure(text: str) -> str:
        return f"{len(text)} {hashlib.sha256(text.encode()).hexdigest()}"

    return server


def _call(size: int) -> tuple[bytes, str]:
    """A tools/call body of exactly `size` bytes, and the answer `measure` should give."""
    shell = {"jsonrpc": "2.0", "id": 7, "method": "tools/call"}
    empty = json.dumps({**shell, "params": {"name": "measure", "arguments": {"text": ""}}})
    text = "".join(itertools.islice(itertools.cycle("abcdefghij"), size - len(empty)))
    body = json.dumps({**shell, "params": {"name": "measure", "arguments": {"text": text}}})
    assert len(body) == size
    return body.encode(), f"{len(text)} {hashlib.sha256(text.encode()).hexdigest()}"


def _measured(reply: httpx.Response) -> str:
    assert reply.status_code == 200, reply.text[:500]
    result = reply.json()["result"]
    assert not result.get("isError"), result
    return str(result["content"][0]["text"])


@pytest.fixture(scope="module")
def six_mib_url() -> Iterator[str]:
    app = create_http_app(_measuring_server(Settings(max_request_bytes=6 * MIB)))
    with net.serve_in_thread(app) as url:
        yield url + "/mcp"


def test_a_cap_above_the_sdks_own_default_is_the_cap(six_mib_url: str) -> None:
    """MCP_MAX_REQUEST_BYTES=6 MiB: a 5 MiB call (over the SDK's own 4 MiB default) reaches
    the tool whole; 7 MiB is refused by the server's own 413, declared or chunked."""
    body, expected = _call(5 * MIB)
    reply = httpx.post(six_mib_url, headers=HEADERS, content=body, timeout=60)
    assert _measured(reply) == expected
    big, _ = _call(7 * MIB)
    for content in (big, _chunks(big)):
        refused = httpx.post(six_mib_url, headers=HEADERS, content=content, timeout=60)
        assert refused.status_code == 413
        assert refused.headers["content-type"] == "application/json"
        assert refused.json() == {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": -32600,
                "message": "Request body over the 6,291,456-byte limit (MCP_MAX_REQUEST_BYTES)",
            },
        }


@pytest.mark.parametrize("verifier", [StaticTokens, ScopedTokens])
def test_a_large_body_reaches_the_tool_whole_behind_the_auth_gate(
    verifier: type[StaticTokens],
) -> None:
    """Bearer tokens, with and without scopes (with scopes the gate reads the body for the
    called tool's scopes): the 5 MiB argument arrives intact, and a token is still needed."""
    auth = AuthConfig(mode="bearer", bearer_tokens=(TOKEN,))
    app = create_http_app(_measuring_server(Settings(max_request_bytes=6 * MIB, auth=auth)))
    (gate,) = [m for m in app.user_middleware if m.cls is AuthGate]  # type: ignore[comparison-overlap]
    gate.kwargs["verifier"] = verifier([TOKEN])
    body, expected = _call(5 * MIB)
    with net.serve_in_thread(app) as base:
        url = base + "/mcp"
        headers = {**HEADERS, "authorization": f"Bearer {TOKEN}"}
        for content in (body, _chunks(body)):
            reply = httpx.post(url, headers=headers, content=content, timeout=60)
            assert _measured(reply) == expected
        refused = httpx.post(url, headers=HEADERS, content=body, timeout=60)
        assert refused.status_code == 401


def test_the_auth_gate_without_the_request_guard_in_front_is_a_wiring_error() -> None:
    """The gate never reads a body itself: a scoped POST that reaches it without the body
    `RequestGuard` read (an app wired without the guard) stops with a RuntimeError, and the
    app behind it never runs."""
    auth = AuthConfig(mode="bearer", bearer_tokens=(TOKEN,))
    server = _measuring_server(Settings(auth=auth))
    reached: list[Scope] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope)

    gate = AuthGate(app, server=server, verifier=ScopedTokens([TOKEN]))
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/mcp",
        "headers": [(b"authorization", f"Bearer {TOKEN}".encode())],
    }

    async def receive() -> Message:
        raise AssertionError("the gate read the body itself")

    async def send(message: Message) -> None:
        raise AssertionError(f"the gate answered: {message}")

    async def check() -> None:
        with pytest.raises(RuntimeError, match="RequestGuard"):
            await gate(scope, receive, send)

    anyio.run(check)
    assert reached == []


@dataclass
class Tap:
    """What crossed the socket's `receive` (outermost) and what the SDK's handler got."""

    pulled: list[tuple[str, int]] = field(default_factory=list)  # (type, body bytes)
    calls_before_answer: int = 0
    answered: bool = False
    shared: list[bytes] = field(default_factory=list)  # the body layers share, per request
    delivered: list[bytes] = field(default_factory=list)  # bodies the SDK's handler read


def _tapped_app(auth: AuthConfig, tap: Tap) -> ASGIApp:
    server = _measuring_server(Settings(max_request_bytes=6 * MIB, auth=auth))
    app = create_http_app(server)
    gates = [m for m in app.user_middleware if m.cls is AuthGate]  # type: ignore[comparison-overlap]
    for gate in gates:
        gate.kwargs["verifier"] = ScopedTokens([TOKEN])
    limit = server.session_manager.asgi_app
    handler = limit.app

    async def sdk_handler(scope: Scope, receive: Receive, send: Send) -> None:
        body = buffered_body(scope)
        assert body is not None
        tap.shared.append(body)

        async def watched() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                tap.delivered.append(message["body"])
            return message

        await handler(scope, watched, send)

    limit.app = sdk_handler

    async def outermost(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/mcp":
            await app(scope, receive, send)
            return

        async def socket() -> Message:
            if not tap.answered:
                tap.calls_before_answer += 1
            message = await receive()
            tap.pulled.append((message["type"], len(message.get("body", b""))))
            return message

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                tap.answered = True
            await send(message)

        await app(scope, socket, answer)

    return outermost


@pytest.mark.parametrize("mode", ["none", "bearer"])
def test_the_body_is_read_from_the_socket_once_and_never_copied(mode: str) -> None:
    """The real receive is pulled only until the body ends (a second read by any layer would
    be one more pull before the answer), and the SDK's handler gets the very object the
    layers share: neither the auth gate nor the SDK's own body limit buffered a copy."""
    tap = Tap()
    auth = AuthConfig(mode="bearer", bearer_tokens=(TOKEN,)) if mode == "bearer" else AuthConfig()
    body, expected = _call(5 * MIB)
    with net.serve_in_thread(_tapped_app(auth, tap)) as base:
        headers = {**HEADERS, "authorization": f"Bearer {TOKEN}"}
        reply = httpx.post(base + "/mcp", headers=headers, content=_chunks(body), timeout=60)
        assert _measured(reply) == expected
    requests = [size for kind, size in tap.pulled if kind == "http.request"]
    assert len(requests) > 1 and sum(requests) == len(body)  # it came in chunks
    assert tap.calls_before_answer == len(requests)
    (shared,) = tap.shared
    (delivered,) = tap.delivered
    assert delivered is shared and shared == body


# --- credentials never reach the log ------------------------------------------------------------


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    secret, user, password = "s3cret-token-value", "me", "pass-word-1"
    redact_logs(Redactor([secret, password], [(user, password)]))
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    log = logging.getLogger("mcpgen.test.redaction")
    with caplog.at_level(logging.INFO):
        log.info("GET %s", httpx.URL(f"https://api.example.com/x?key={secret}"))
        log.info("Authorization: Basic %s", basic)
        try:
            raise ValueError(f"Illegal header value b'pref=x; sid={secret}'")
        except ValueError:
            log.exception("failed")
    redact_logs(Redactor())
    text = caplog.text
    assert secret not in text and basic not in text and password not in text
    assert "key=[redacted]" in text and "sid=[redacted]" in text
    assert list(itertools.islice((r.getMessage() for r in caplog.records), 2)) == [
        "GET https://api.example.com/x?key=[redacted]",
        "Authorization: Basic [redacted]",
    ]


def test_a_secret_with_json_escapes_is_redacted_from_results() -> None:
    """A backslash or a quote in a credential is escaped in a result's JSON text: both the
    text block and the structured content are still redacted."""
    secret = 'sk_live\\ab"cd1234'
    echoed = {"error": {"message": f"bad key {secret}"}}
    result = CallToolResult(
        content=[TextContent(type="text", text=json.dumps(echoed))],
        structured_content=echoed,
        is_error=True,
    )
    redacted = Redactor([secret]).result(result)
    block = redacted.content[0]
    assert isinstance(block, TextContent)
    assert json.loads(block.text) == {"error": {"message": "bad key [redacted]"}}
    assert redacted.structured_content == {"error": {"message": "bad key [redacted]"}}


@pytest.mark.anyio
async def test_the_legacy_sse_transport_has_the_same_cap() -> None:
    """Over HTTP+SSE a POSTed message is capped by MCP_MAX_REQUEST_BYTES too: above the
    SDK's 4 MiB default when the setting says so, and refused with 413 above the setting."""
    from mcp import Client
    from mcp.client.sse import sse_client

    text = "".join(itertools.islice(itertools.cycle("abcdefghij"), 5 * MIB))
    app = create_sse_app(_measuring_server(Settings(max_request_bytes=6 * MIB)))
    with net.serve_in_thread(app) as base:
        # a refused POST leaves the SDK client waiting for an answer: bounded here
        with anyio.fail_after(60):
            async with Client(sse_client(base + "/sse", timeout=30)) as client:
                result = await client.call_tool("measure", {"text": text})
        assert isinstance(result.content[0], TextContent), result
        assert result.content[0].text == f"{len(text)} {hashlib.sha256(text.encode()).hexdigest()}"
    small = create_sse_app(_measuring_server(Settings(max_request_bytes=1000)))
    with net.serve_in_thread(small) as base:
        body, _ = _call(2000)
        url = base + "/messages/?session_id=00000000000000000000000000000000"
        refused = httpx.post(url, headers=HEADERS, content=body, timeout=30)
        assert refused.status_code == 413
        within, _ = _call(900)
        unknown = httpx.post(url, headers=HEADERS, content=within, timeout=30)
        assert unknown.status_code == 404  # within the cap: on to the session lookup
