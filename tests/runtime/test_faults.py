"""Upstream faults, each against a real upstream on 127.0.0.1 that misbehaves on purpose.

The server is the runtime's own (in process, through the official client); the upstream is
tests/support/faulty.py, which controls the bytes on the socket. Every log line and every
tool result of this module goes through a secret scan for the credentials the server holds.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import (
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    TextContent,
    ToolAnnotations,
)

from mcpgen.runtime.config import Settings
from mcpgen.runtime.definitions import ToolDef
from mcpgen.runtime.encoding import UNSET, Query, Unset
from mcpgen.runtime.server import ApiServer
from mcpgen.runtime.upstream import Upstream
from tests.runtime.conftest import make_project
from tests.support import net
from tests.support.faulty import FaultyUpstream, Reply, faulty_upstream
from tests.support.secrets import SecretScan

pytestmark = pytest.mark.anyio

HEADER_KEY = "hdr-secret-5f1e9a"
QUERY_KEY = "qry-secret-77c2d0"
CREDENTIALS = {"DEMO_KEY": HEADER_KEY, "DEMO_Q": QUERY_KEY}
SECURITY = (("key", "query"),)
READ = ToolAnnotations(read_only_hint=True, idempotent_hint=True)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4


async def _raw(upstream: Upstream, *, name: str) -> Any:
    return await upstream.request(
        "GET", "/raw/{name}", path_params={"name": name}, security=SECURITY
    )


async def _list(upstream: Upstream, *, limit: int | Unset = UNSET) -> Any:
    return await upstream.request("GET", "/list", query=[Query("limit", limit)], security=SECURITY)


async def _object(upstream: Upstream) -> Any:
    return await upstream.request("GET", "/obj", security=SECURITY)


async def _create(upstream: Upstream) -> Any:
    return await upstream.request("POST", "/create", json_body={"a": 1}, security=SECURITY)


def _tool(name: str, handler: Any, method: str, path: str, **kw: Any) -> ToolDef:
    values: dict[str, Any] = {
        "title": name,
        "description": name,
        "arguments": {},
        "input_schema": {"type": "object", "properties": {}, "additionalProperties": False},
        "output_schema": None,
        "annotations": READ,
        **kw,
    }
    return ToolDef(name=name, handler=handler, method=method, path=path, **values)


RAW = _tool(
    "raw",
    _raw,
    "GET",
    "/raw/{name}",
    arguments={"name": "name"},
    input_schema={
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
        "additionalProperties": False,
    },
)
LIST = _tool(
    "list_items",
    _list,
    "GET",
    "/list",
    arguments={"limit": "limit", "starting_after": "starting_after"},
    input_schema={
        "type": "object",
        "properties": {"limit": {"type": "integer"}, "starting_after": {"type": "string"}},
        "additionalProperties": False,
    },
    output_schema={"type": "object", "properties": {"result": {"type": "array"}}},
    wrap_output=True,
)
OBJECT = _tool("get_object", _object, "GET", "/obj", output_schema={"type": "object"})
CREATE = _tool("create", _create, "POST", "/create")


@pytest.fixture
def scan(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Texts to scan: every tool result a test adds, then every log record, at teardown."""
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    yield texts
    secrets = SecretScan()
    secrets.add(HEADER_KEY, QUERY_KEY)
    secrets.check([record.getMessage() for record in caplog.records], "the log")
    secrets.check([caplog.text], "the formatted log")
    secrets.check(texts, "tool results")


@pytest.fixture
def upstream() -> Iterator[FaultyUpstream]:
    with faulty_upstream() as server:
        yield server


def make_server(base_url: str, **settings: Any) -> ApiServer:
    values: dict[str, Any] = {
        "base_url": base_url,
        "retries": 0,
        "timeout": 10.0,
        "credentials": CREDENTIALS,
        **settings,
    }
    return ApiServer(make_project(), Settings(**values), [RAW, LIST, OBJECT, CREATE])


async def call(
    server: ApiServer, scan: list[str], name: str, arguments: dict[str, Any] | None = None
) -> CallToolResult:
    async with Client(server) as client:
        result = await client.session.call_tool(name, arguments or {})
    assert isinstance(result, CallToolResult)
    scan.append(result.model_dump_json())
    return result


def text(result: CallToolResult) -> str:
    return "\n".join(b.text for b in result.content if isinstance(b, TextContent))


# --- size caps ------------------------------------------------------------------------------


async def test_an_oversized_reply_is_read_only_up_to_the_cap(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    total = 32 * 1024 * 1024
    upstream.on("/obj", Reply(200, b" " * total, chunk=64 * 1024, declared=-1))
    server = make_server(upstream.url, max_reply_bytes=1024 * 1024)
    result = await call(server, scan, "get_object")
    assert result.is_error
    assert "larger than this server reads (UPSTREAM_MAX_BYTES)" in text(result)
    assert "keep_fields" in text(result) and len(text(result)) < 1000
    (seen,) = upstream.requests
    assert seen.written < total // 2, "the reply was read past the cap"


async def test_a_declared_oversized_reply_is_not_read_at_all(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    upstream.on("/obj", Reply(200, b"[" + b"1," * 16_000_000 + b"1]", chunk=64 * 1024))
    server = make_server(upstream.url, max_reply_bytes=1024 * 1024)
    result = await call(server, scan, "get_object")
    assert result.is_error and "larger than this server reads" in text(result)
    assert upstream.requests[0].written < 16_000_000


async def test_oversized_text_is_shown_cut(upstream: FaultyUpstream, scan: list[str]) -> None:
    big = b"x" * 32_000_000
    upstream.on("/raw/big", Reply(200, big, chunk=64 * 1024, content_type="text/plain"))
    server = make_server(upstream.url, max_reply_bytes=1024 * 1024, max_result_bytes=50_000)
    result = await call(server, scan, "raw", {"name": "big"})
    (first, note) = result.content
    assert isinstance(first, TextContent) and isinstance(note, TextContent)
    assert not result.is_error and set(first.text) == {"x"} and len(first.text) <= 50_000
    assert "the reply is larger than this server reads" in note.text
    assert upstream.requests[0].written < 16_000_000


async def test_text_over_the_result_cap_is_cut_and_says_so(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    upstream.on("/raw/log", Reply(200, "é".encode() * 150_000, content_type="text/plain"))
    server = make_server(upstream.url, max_result_bytes=10_000)
    result = await call(server, scan, "raw", {"name": "log"})
    shown, note = result.content
    assert isinstance(shown, TextContent) and isinstance(note, TextContent)
    assert not result.is_error and len(shown.text.encode()) <= 10_000
    assert set(shown.text) == {"é"}
    assert "300,000 bytes" in note.text and "MCP_MAX_RESULT_BYTES" in note.text


async def test_a_long_list_is_cut_to_the_items_that_fit(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    items = [{"id": f"item-{i}", "note": "n" * 40} for i in range(5000)]
    upstream.on("/list", Reply.json(items))
    server = make_server(upstream.url, max_result_bytes=20_000)
    result = await call(server, scan, "list_items")
    assert not result.is_error
    assert result.structured_content is not None
    kept = result.structured_content["result"]
    assert 0 < len(kept) < 5000 and kept == items[: len(kept)]
    data, note = result.content
    assert isinstance(data, TextContent) and json.loads(data.text) == kept
    assert len(data.text.encode()) <= 20_000
    assert isinstance(note, TextContent)
    assert f"Only the first {len(kept)} of 5000 items are shown" in note.text
    assert "page with `limit`, `starting_after`" in note.text and "keep_fields" in note.text


async def test_a_large_object_is_an_error_with_advice(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    upstream.on("/obj", Reply.json({"blob": "b" * 200_000}))
    server = make_server(upstream.url, max_result_bytes=50_000)
    result = await call(server, scan, "get_object")
    assert result.is_error and "over this server's limit of 50,000 bytes" in text(result)
    assert "no paging arguments" in text(result) and "keep_fields" in text(result)


# --- rate limits, retries and the deadline ----------------------------------------------------


async def test_retry_after_is_honoured_for_idempotent_calls(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    upstream.on(
        "/obj",
        Reply.json({"message": "slow down"}, status=429, headers={"Retry-After": "1"}),
        Reply.json({"ok": True}),
    )
    server = make_server(upstream.url, retries=2)
    started = time.monotonic()
    result = await call(server, scan, "get_object")
    assert not result.is_error and result.structured_content == {"ok": True}
    assert time.monotonic() - started >= 1.0
    assert len(upstream.requests) == 2


async def test_a_wait_beyond_the_deadline_is_answered_at_once(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    upstream.on("/obj", Reply.json({"message": "maintenance"}, 503, headers={"Retry-After": "30"}))
    server = make_server(upstream.url, retries=3, timeout=5.0)
    started = time.monotonic()
    result = await call(server, scan, "get_object")
    assert time.monotonic() - started < 2.0
    assert result.is_error and "503" in text(result) and "maintenance" in text(result)
    assert "It asks to wait 30 s before trying again." in text(result)
    assert len(upstream.requests) == 1


async def test_calls_that_are_not_idempotent_are_not_retried(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    upstream.on("/create", Reply.json({"message": "quota"}, 429, headers={"Retry-After": "7"}))
    server = make_server(upstream.url, retries=3)
    result = await call(server, scan, "create")
    assert result.is_error and "It asks to wait 7 s" in text(result)
    assert len(upstream.requests) == 1


async def test_the_deadline_covers_every_retry(upstream: FaultyUpstream, scan: list[str]) -> None:
    upstream.on("/obj", Reply.json({}, 503, headers={"Retry-After": "1"}))
    server = make_server(upstream.url, retries=10, timeout=1.5)
    started = time.monotonic()
    result = await call(server, scan, "get_object")
    assert time.monotonic() - started < 2.5
    assert result.is_error and "wait 1 s" in text(result)
    assert len(upstream.requests) == 2  # the second wait would pass the deadline


async def test_a_slow_upstream_ends_at_the_deadline(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    upstream.on("/obj", Reply.json({}, delay=5.0))
    server = make_server(upstream.url, retries=3, timeout=1.0)
    started = time.monotonic()
    result = await call(server, scan, "get_object")
    assert time.monotonic() - started < 2.5
    assert result.is_error and "did not answer within 1 s (UPSTREAM_TIMEOUT)" in text(result)


async def test_a_saturated_upstream_pool_fails_fast(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    upstream.on("/obj", Reply.json({"ok": 1}, delay=2.0))
    server = make_server(upstream.url, max_concurrency=2)
    outcomes: list[tuple[float, CallToolResult]] = []

    async def one(client: Client) -> None:
        started = time.monotonic()
        result = await client.session.call_tool("get_object", {})
        assert isinstance(result, CallToolResult)
        outcomes.append((time.monotonic() - started, result))

    async with Client(server) as client, anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(one, client)
    scan.extend(r.model_dump_json() for _, r in outcomes)
    failed = [(t, r) for t, r in outcomes if r.is_error]
    assert len(failed) == 2 and len(upstream.requests) == 2
    for took, result in failed:
        assert took < 1.8 and "UPSTREAM_MAX_CONCURRENCY" in text(result)


# --- connections that fail ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        (f"http://127.0.0.1:{net.free_port()}", "refused the connection"),
        ("http://mcpgen-test.invalid", "could not resolve the upstream host name"),
    ],
)
async def test_unreachable_upstreams(base_url: str, expected: str, scan: list[str]) -> None:
    result = await call(make_server(base_url), scan, "get_object")
    assert result.is_error and "Could not reach the upstream API (GET /obj)" in text(result)
    assert expected in text(result)


async def test_a_connection_reset_mid_body(upstream: FaultyUpstream, scan: list[str]) -> None:
    upstream.on("/obj", Reply(200, b'{"a": 1, "b": ', declared=100, cut=True))
    result = await call(make_server(upstream.url, retries=1), scan, "get_object")
    assert result.is_error
    assert "broke before its reply was complete" in text(result)
    assert len(upstream.requests) == 2  # an idempotent call is tried again


async def test_an_untrusted_certificate(scan: list[str]) -> None:
    with faulty_upstream(tls=True) as tls:
        tls.on("/obj", Reply.json({}))
        result = await call(make_server(tls.url), scan, "get_object")
    assert result.is_error and "TLS certificate of 127.0.0.1 was refused" in text(result)
    assert tls.requests == []


async def test_tls_spoken_to_a_plain_server(upstream: FaultyUpstream, scan: list[str]) -> None:
    plain = upstream.url.replace("http://", "https://")
    result = await call(make_server(plain), scan, "get_object")
    assert result.is_error and "TLS handshake with 127.0.0.1 failed" in text(result)


# --- redirects ------------------------------------------------------------------------------


async def test_a_same_origin_redirect_is_followed_with_the_credentials(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    upstream.on("/obj", Reply(302, headers={"Location": "/moved?page=2"}))
    upstream.on("/moved", Reply.json({"moved": True}))
    result = await call(make_server(upstream.url), scan, "get_object")
    assert result.structured_content == {"moved": True}
    _, second = upstream.requests
    assert second.target == f"/moved?page=2&k={QUERY_KEY}"
    assert second.headers["x-key"] == HEADER_KEY


async def test_a_redirect_to_another_host_is_not_followed(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    with faulty_upstream() as elsewhere:
        elsewhere.on("*", Reply.json({"stolen": True}))
        upstream.on("/obj", Reply(307, headers={"Location": f"{elsewhere.url}/collect"}))
        result = await call(make_server(upstream.url), scan, "get_object")
        assert elsewhere.requests == []
    assert result.is_error and "redirected GET /obj to another host (127.0.0.1)" in text(result)
    assert "not followed" in text(result)


async def test_cookies_the_upstream_sets_are_never_sent_back(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    upstream.on("/obj", Reply.json({}, headers={"Set-Cookie": "session=for-one-caller; Path=/"}))
    server = make_server(upstream.url)
    async with Client(server) as client:
        await client.session.call_tool("get_object", {})
        await client.session.call_tool("get_object", {})
    assert [r.headers.get("cookie") for r in upstream.requests] == [None, None]


# --- replies that are not JSON, and replies that lie ------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "kind", "media"),
    [
        (PNG, "image/png", "image", "image/png"),
        (PNG, "application/json", "image", "image/png"),  # the label lies; the bytes win
        (b"plain words", "text/plain; charset=utf-8", "text", None),
        (b'{"looks": "like json"}', "image/png", "text", None),
        (PDF, "application/pdf", "resource", "application/pdf"),
        (b"\x00\x01\x02binary", "text/plain", "resource", "application/octet-stream"),
        ("Grüße".encode("latin-1"), "text/plain; charset=latin-1", "text", None),
    ],
)
async def test_replies_that_are_not_json(
    upstream: FaultyUpstream,
    scan: list[str],
    body: bytes,
    content_type: str,
    kind: str,
    media: str | None,
) -> None:
    upstream.on("/raw/x", Reply(200, body, content_type=content_type))
    result = await call(make_server(upstream.url), scan, "raw", {"name": "x"})
    assert not result.is_error
    (block,) = result.content
    if kind == "image":
        assert isinstance(block, ImageContent) and block.mime_type == media
        assert base64.b64decode(block.data) == body
    elif kind == "resource":
        assert isinstance(block, EmbeddedResource)
        resource = block.resource
        assert isinstance(resource, BlobResourceContents) and resource.mime_type == media
        assert base64.b64decode(resource.blob) == body
        assert str(resource.uri) == f"{upstream.url}/raw/x"  # no query: no credential
    else:
        assert isinstance(block, TextContent)
        assert block.text == body.decode(content_type.partition("charset=")[2] or "utf-8")


async def test_an_image_where_json_was_documented_is_an_error(
    upstream: FaultyUpstream, scan: list[str]
) -> None:
    upstream.on("/obj", Reply(200, PNG, content_type="application/json"))
    result = await call(make_server(upstream.url), scan, "get_object")
    assert result.is_error
    assert f"the reply is not JSON: image/png ({len(PNG)} bytes)" in text(result)


# --- what the upstream says is never a way to leak a credential --------------------------------


async def test_upstream_error_text_is_redacted(upstream: FaultyUpstream, scan: list[str]) -> None:
    echo = f"key {HEADER_KEY} and k={QUERY_KEY} are not valid"
    upstream.on("/obj", Reply.json({"message": echo}, 401))
    upstream.on("/raw/me", Reply(200, f"you are {HEADER_KEY}".encode(), content_type="text/plain"))
    upstream.on("/list", Reply.json([{"token": QUERY_KEY}]))
    server = make_server(upstream.url)
    refused = await call(server, scan, "get_object")
    echoed = await call(server, scan, "raw", {"name": "me"})
    listed = await call(server, scan, "list_items")
    assert refused.is_error and "key [redacted] and k=[redacted] are not valid" in text(refused)
    assert text(echoed) == "you are [redacted]"
    assert listed.structured_content == {"result": [{"token": "[redacted]"}]}
