"""tools/list from precomputed bytes (mcpgen.runtime.listing) and tools imported on first call
(mcpgen.runtime.definitions.Catalog), over real HTTP requests to the app, in both eras."""

from __future__ import annotations

import json
import sys
import textwrap
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import anyio
import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from mcpgen.render import listing_text
from mcpgen.render import source_digest as generator_digest
from mcpgen.runtime.compact import CompactServer
from mcpgen.runtime.config import Settings
from mcpgen.runtime.definitions import Catalog, ToolDef, source_digest
from mcpgen.runtime.listing import MARK, ListingMark, Pending, SpliceCounts, SpliceListings
from mcpgen.runtime.server import ApiServer, create_http_app, create_sse_app, transport_security
from tests.runtime.conftest import Recorder, make_project
from tests.runtime.test_server import ANNOTATIONS, ITEM, LIST
from tests.support import net

BASE = "http://127.0.0.1:8080"
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
LEGACY = "2025-11-25"
MODERN = "2026-07-28"
ERAS = ("2025-03-26", "2025-06-18", LEGACY, MODERN)


def tool(name: str, description: str = "A tool.", **changes: Any) -> ToolDef:
    values: dict[str, Any] = {
        "name": name,
        "title": name.replace("_", " ").capitalize(),
        "description": description,
        "handler": ITEM.handler,
        "arguments": {},
        "input_schema": {"type": "object", "properties": {}, "additionalProperties": False},
        "output_schema": None,
        "annotations": ANNOTATIONS,
    }
    values.update(changes)
    return ToolDef(**values)


MANY = [ITEM, LIST, *(tool(f"tool_{i:02d}", f"Number {i}, ünïcödé \u2028 line") for i in range(9))]


def server_of(tools: Any = MANY, *, page_size: int = 0, url: str = "") -> ApiServer:
    settings = Settings(tools_page_size=page_size, base_url=url, retries=0)
    return ApiServer(make_project(), settings, tools)


def post(
    http: TestClient, version: str, method: str, params: dict[str, Any] | None = None, rid: int = 1
) -> Any:
    headers = {**ACCEPT, "MCP-Protocol-Version": version}
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    params = dict(params or {})
    if version == MODERN:
        headers["Mcp-Method"] = method
        if method == "tools/call":
            headers["Mcp-Name"] = params["name"]
        params["_meta"] = {
            "io.modelcontextprotocol/protocolVersion": MODERN,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    if params:
        body["params"] = params
    response = http.post("/mcp", headers=headers, content=json.dumps(body))
    # the 2026 era answers a JSON-RPC error with an HTTP error status too
    assert response.status_code == 200 or "error" in response.json(), response.text
    if response.headers["content-type"].startswith("text/event-stream"):
        lines = response.text.replace("\r\n", "\n").split("\n")  # SSE line ends only
        data = [line[5:] for line in lines if line.startswith("data:")]
        return json.loads(data[-1])
    assert int(response.headers["content-length"]) == len(response.content)
    return response.json()


def sdk_app(server: ApiServer, *, json_response: bool = True) -> Starlette:
    """The SDK's own app, without the middleware: its answers are the reference."""
    return server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=json_response,
        transport_security=transport_security(server.app_settings),
    )


@pytest.fixture
def both() -> Iterator[tuple[ApiServer, TestClient, TestClient]]:
    """A server behind create_http_app, and the same tools behind the SDK's bare app."""
    fast = server_of()
    with (
        TestClient(create_http_app(fast), base_url=BASE) as http,
        TestClient(sdk_app(server_of()), base_url=BASE) as reference,
    ):
        yield fast, http, reference


@pytest.mark.parametrize("version", ERAS)
def test_tools_list_is_what_the_sdk_sends_in_every_era(
    both: tuple[ApiServer, TestClient, TestClient], version: str
) -> None:
    fast, http, reference = both
    first = post(http, version, "tools/list")
    again = post(http, version, "tools/list", rid=2)
    expected = post(reference, version, "tools/list")
    assert first == expected
    assert again["result"] == expected["result"]
    assert [t["name"] for t in first["result"]["tools"]] == [t.name for t in MANY]
    assert fast.splice_counts == SpliceCounts(spliced=2, fallbacks=0)


def test_tools_list_takes_the_precomputed_fast_path() -> None:
    """The runtime answers tools/list by overriding a private method of `mcp` 2.3
    (`MCPServer._handle_list_tools`) and swapping its placeholder for precomputed bytes as
    the answer leaves. If a new SDK routes tools/list elsewhere, or writes the placeholder
    in a form the swap does not expect, the answer stays right but is slow: this test fails
    so that someone looks."""
    server = server_of()
    with TestClient(create_http_app(server), base_url=BASE) as http:
        for version in (LEGACY, MODERN):
            post(http, version, "tools/list")
    assert server.splice_counts == SpliceCounts(spliced=2, fallbacks=0)


def test_sse_answers_are_swapped_too() -> None:
    """With `json_response=False` the answer is an SSE event; the same swap applies."""
    fast, plain = server_of(), server_of()
    app = SpliceListings(sdk_app(fast, json_response=False), fast.splice_counts)
    with (
        TestClient(app, base_url=BASE) as http,
        TestClient(sdk_app(plain, json_response=False), base_url=BASE) as reference,
    ):
        for version in (LEGACY, MODERN):
            assert post(http, version, "tools/list") == post(reference, version, "tools/list")
    assert fast.splice_counts == SpliceCounts(spliced=2, fallbacks=0)


@pytest.mark.anyio
async def test_the_legacy_sse_transport_gets_the_precomputed_bytes_on_its_stream() -> None:
    """Over HTTP+SSE the answer to a POST goes out on the client's GET stream."""
    from mcp.client.sse import sse_client

    fast = server_of()
    async with Client(server_of()) as reference:
        expected = await reference.list_tools()
    with net.serve_in_thread(create_sse_app(fast)) as base:
        url = base + "/sse"
        async with Client(sse_client(url)) as client:
            first = await client.list_tools()
            again = await client.list_tools()
            called = await client.call_tool("tool_03", {})
    assert first == again == expected
    assert called.is_error  # no upstream configured: the call itself went through
    assert fast.splice_counts == SpliceCounts(spliced=2, fallbacks=0)


class _Written:
    """stdout for the SDK's `stdio_server`: the JSON-RPC messages it writes."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.more = anyio.Event()

    async def write(self, text: str) -> None:
        self.messages.extend(json.loads(line) for line in text.splitlines())
        self.more.set()
        self.more = anyio.Event()

    async def flush(self) -> None:
        return None

    async def until(self, count: int) -> None:
        while len(self.messages) < count:
            await self.more.wait()


async def over_stdio(server: ApiServer, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What `server` writes over the SDK's stdio transport, given `requests` one line at a
    time (a request only after the answer to the one before)."""
    out = _Written()

    async def lines() -> AsyncIterator[str]:
        answered = 0
        for request in requests:
            yield json.dumps(request) + "\n"
            if "id" in request:
                answered += 1
                await out.until(answered)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tasks:
            stdio = server.run_stdio_async(stdin=cast(Any, lines()), stdout=cast(Any, out))
            tasks.start_soon(lambda: stdio)
            await out.until(sum(1 for request in requests if "id" in request))
            tasks.cancel_scope.cancel()
    return out.messages


@pytest.mark.anyio
async def test_stdio_answers_tools_list_from_the_precomputed_bytes() -> None:
    """Over stdio the SDK's own transport (`stdio_server`) writes the answer: the bytes are
    swapped in as it writes, in both eras, and the answer is what the SDK alone sends."""
    fast = server_of()
    with TestClient(sdk_app(server_of()), base_url=BASE) as reference:
        legacy, modern = (post(reference, v, "tools/list") for v in (LEGACY, MODERN))
    meta = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    init = {
        "protocolVersion": LEGACY,
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    }
    answers = await over_stdio(
        fast,
        [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            {"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
        ],
    )
    assert [a["id"] for a in answers] == [1, 2, 3]
    assert answers[1]["result"] == answers[2]["result"] == legacy["result"]
    assert fast.splice_counts == SpliceCounts(spliced=2, fallbacks=0)

    fresh = server_of()
    answers = await over_stdio(
        fresh, [{"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {"_meta": meta}}]
    )
    assert answers[0]["result"] == modern["result"]
    assert fresh.splice_counts == SpliceCounts(spliced=1, fallbacks=0)


def test_answers_left_for_another_response_are_bounded() -> None:
    pending: Pending = OrderedDict()
    marks = [ListingMark(pending) for _ in range(70)]
    usable = [mark.usable() and bool(mark.placeholder(b"[]")) for mark in marks]
    assert usable.count(True) == 64 and len(pending) == 64


@pytest.mark.parametrize("version", [LEGACY, MODERN])
def test_pages_follow_their_cursors_and_a_bad_cursor_is_invalid_params(version: str) -> None:
    server = server_of(page_size=4)
    names: list[str] = []
    cursors: list[str] = []
    with TestClient(create_http_app(server), base_url=BASE) as http:
        cursor: str | None = None
        for _ in range(10):
            result = post(http, version, "tools/list", {"cursor": cursor} if cursor else None)
            names += [t["name"] for t in result["result"]["tools"]]
            cursor = result["result"].get("nextCursor")
            if cursor is None:
                break
            cursors.append(cursor)
        bad = post(http, version, "tools/list", {"cursor": "page-99"})
        junk = post(http, version, "tools/list", {"cursor": "x"})
    assert names == [t.name for t in MANY]
    assert len(cursors) == 2
    for error in (bad, junk):
        assert error["error"]["code"] == -32602 and "Invalid cursor" in error["error"]["message"]
    assert server.splice_counts.fallbacks == 0 and server.splice_counts.spliced == 3


class Scoped(ApiServer):
    """Shows each caller only the tools named in its scopes (as an auth layer would)."""

    def __init__(self, tools: Any) -> None:
        super().__init__(make_project(), Settings(), tools)
        self.asked: list[frozenset[str]] = []

    def visible_tool_names(self, scopes: frozenset[str] | None) -> frozenset[str] | None:
        assert scopes is not None
        self.asked.append(scopes)
        return None if "all" in scopes else frozenset(scopes)


def authenticated(app: Any, scopes: list[str]) -> Any:
    """Grants the request scopes from a test header, as `auth.AuthGate` does from a token
    (stand-in for real tokens: the auth tests cover those)."""
    from mcpgen.runtime import auth

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        given = dict(scope.get("headers", [])).get(b"x-scopes", b"").decode()
        chosen = frozenset(given.split() if given else scopes)
        token = auth._caller_scopes.set(chosen)
        try:
            await app(scope, receive, send)
        finally:
            auth._caller_scopes.reset(token)

    return wrapped


def test_filtered_listings_are_precomputed_per_visible_set() -> None:
    server = Scoped(MANY)
    app = create_http_app(server)
    app.add_middleware(authenticated, scopes=["get_item"])
    with TestClient(app, base_url=BASE) as http:
        only = post(http, MODERN, "tools/list")
        headers = {**ACCEPT, "MCP-Protocol-Version": LEGACY, "X-Scopes": "all"}
        body = json.dumps({"jsonrpc": "2.0", "id": 5, "method": "tools/list"})
        every = http.post("/mcp", headers=headers, content=body).json()
        two = http.post(
            "/mcp", headers={**headers, "X-Scopes": "tool_03 list_items"}, content=body
        ).json()
    assert [t["name"] for t in only["result"]["tools"]] == ["get_item"]
    assert len(every["result"]["tools"]) == len(MANY)
    assert [t["name"] for t in two["result"]["tools"]] == ["list_items", "tool_03"]
    assert frozenset({"get_item"}) in server.asked
    assert server.splice_counts == SpliceCounts(spliced=3, fallbacks=0)


def test_a_refused_request_never_reaches_the_listing() -> None:
    """The swap only ever touches an answer the tools/list handler produced: a layer inside
    it that refuses the caller (authentication, host checks) answers as it would alone."""
    server = server_of()

    async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
        await JSONResponse({"error": "invalid_token"}, status_code=401)(scope, receive, send)

    app = create_http_app(server)
    route = next(r for r in app.router.routes if getattr(r, "path", "") == "/mcp")
    route.app = refuse  # type: ignore[attr-defined]
    headers = {**ACCEPT, "MCP-Protocol-Version": LEGACY}
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    with TestClient(app, base_url=BASE) as http:
        refused = http.post("/mcp", headers=headers, content=body)
    assert refused.status_code == 401 and refused.json() == {"error": "invalid_token"}
    assert server.splice_counts == SpliceCounts()
    # the SDK's own host check, inside the unchanged route
    checked = server_of()
    with TestClient(create_http_app(checked), base_url=BASE) as http:
        foreign = http.post("/mcp", headers={**headers, "Host": "evil.example"}, content=body)
    assert foreign.status_code == 421
    assert checked.splice_counts == SpliceCounts()


def test_hand_written_tools_join_the_listing_when_added() -> None:
    server = server_of([ITEM])
    with TestClient(create_http_app(server), base_url=BASE) as http:
        before = post(http, LEGACY, "tools/list")

        @server.tool(name="shout", description="Upper-cases a text.")
        async def shout(text: str) -> str:
            return text.upper()

        after = post(http, MODERN, "tools/list")
        server.register(LIST)
        last = post(http, LEGACY, "tools/list")
    assert [t["name"] for t in before["result"]["tools"]] == ["get_item"]
    assert [t["name"] for t in after["result"]["tools"]] == ["get_item", "shout"]
    assert [t["name"] for t in last["result"]["tools"]] == ["get_item", "list_items", "shout"]


def test_a_tools_list_run_for_another_request_gets_no_placeholder() -> None:
    """In the 2026 era a request names its method in a header; a tools/list the SDK runs
    while serving another method (it may, to check Mcp-Param headers) lists for real."""

    class Request:
        def __init__(self, method: str | None) -> None:
            self.scope = {MARK: ListingMark()}
            self.headers = {} if method is None else {"mcp-method": method}

    from mcpgen.runtime.listing import mark_of

    assert mark_of(Request(None)) is not None
    assert mark_of(Request("tools/list")) is not None
    assert mark_of(Request("tools/call")) is None
    assert mark_of(object()) is None


async def _answer(scope: Scope, receive: Receive, send: Send, body: bytes) -> None:
    await Response(body, media_type="application/json")(scope, receive, send)


def test_an_unexpected_placeholder_form_is_decoded_and_still_swapped() -> None:
    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        mark = scope[MARK]
        placeholder = mark.placeholder(b'[{"name":"real"}]')
        result = {"tools": [{"icons": [], **placeholder}], "nextCursor": "[x]"}
        body = json.dumps({"jsonrpc": "2.0", "id": "[", "result": result})
        await _answer(scope, receive, send, body.encode())

    counts = SpliceCounts()
    http = TestClient(SpliceListings(inner, counts))  # no lifespan: the inner app has none
    answer = http.post("/mcp", content=b"{}")
    assert answer.json() == {
        "jsonrpc": "2.0",
        "id": "[",
        "result": {"tools": [{"name": "real"}], "nextCursor": "[x]"},
    }
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert counts == SpliceCounts(spliced=0, fallbacks=1)


def test_answers_without_the_placeholder_pass_byte_for_byte() -> None:
    body = b'{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"mcpgen-tools-x"}]}}'

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        await _answer(scope, receive, send, body)

    counts = SpliceCounts()
    http = TestClient(SpliceListings(inner, counts))  # no lifespan: the inner app has none
    assert http.post("/mcp", content=b"{}").content == body
    assert http.get("/mcp").content == body
    assert counts == SpliceCounts()


# --- the catalog: tools listed from listing.json, modules imported on first call ----------

MODULE = """
from typing import Any, cast

from mcp.types import ToolAnnotations

from mcpgen.runtime.definitions import ToolDef
from mcpgen.runtime.upstream import Reply, Upstream


async def {name}(upstream: Upstream) -> Reply:
    return await upstream.request("GET", "/{name}")


TOOL = ToolDef(
    name="{name}",
    title="{name}",
    description="Calls /{name}.",
    handler={name},
    arguments={{}},
    input_schema={{"type": "object", "properties": {{}}}},
    output_schema=None,
    annotations=ToolAnnotations(read_only_hint=True),
    path="/{name}",
)
"""


@pytest.fixture
def lazy_package(tmp_path: Path) -> Iterator[str]:
    """A package `lazy_tools_pkg` with two tool modules and their listing.json."""
    package = tmp_path / "lazy_tools_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    operations: list[tuple[dict[str, Any], str]] = []
    for name in ("alpha", "beta"):
        source = textwrap.dedent(MODULE.format(name=name))
        (package / f"{name}.py").write_text(source)
        wire = {
            "name": name,
            "title": name,
            "description": f"Calls /{name}.",
            "inputSchema": {"type": "object", "properties": {}},
            "annotations": {"readOnlyHint": True},
        }
        entry = {
            "name": name,
            "module": name,
            "kind": "tool",
            "method": "GET",
            "path": f"/{name}",
            "tags": ["letters"],
            "tool": wire,
        }
        operations.append((entry, source_digest(source.encode())))
    (package / "listing.json").write_text(listing_text(operations))
    sys.path.insert(0, str(tmp_path))
    try:
        yield "lazy_tools_pkg"
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m.startswith("lazy_tools_pkg")]:
            del sys.modules[module]


@pytest.mark.anyio
async def test_tools_are_listed_without_import_and_imported_on_first_call(
    lazy_package: str, recorder: tuple[Recorder, str]
) -> None:
    rec, url = recorder
    rec.queue(200, b"fine", "text/plain")
    catalog = Catalog.read(lazy_package)
    server = server_of(catalog, url=url)
    async with Client(server) as client:
        listed = await client.list_tools()
        assert f"{lazy_package}.alpha" not in sys.modules
        called: CallToolResult = await client.call_tool("beta", {})
    assert [t.name for t in listed.tools] == ["alpha", "beta"]
    assert listed.tools[0].model_dump(by_alias=True, mode="json", exclude_none=True) == (
        catalog.entries[0].tool
    )
    assert f"{lazy_package}.beta" in sys.modules and f"{lazy_package}.alpha" not in sys.modules
    assert not called.is_error and [s.raw_path for s in rec.seen] == ["/beta"]
    assert catalog.load("beta").wire() == catalog.entries[1].tool


@pytest.mark.anyio
async def test_compact_search_reads_the_listing_without_importing_a_tool(lazy_package: str) -> None:
    server = CompactServer(make_project(exposure="compact"), Settings(), Catalog.read(lazy_package))
    async with Client(server) as client:
        found = await client.call_tool("search_operations", {"query": "call beta"})
    block = found.content[0]
    assert isinstance(block, TextContent)
    assert [op["name"] for op in json.loads(block.text)["operations"]] == ["beta", "alpha"]
    assert not {f"{lazy_package}.alpha", f"{lazy_package}.beta"} & set(sys.modules)


def test_an_edited_module_is_listed_as_edited_and_imported_at_once(
    lazy_package: str, tmp_path: Path
) -> None:
    module = tmp_path / lazy_package / "beta.py"
    module.write_text(module.read_text().replace("Calls /beta.", "Calls /beta, edited."))
    catalog = Catalog.read(lazy_package)
    assert [e.tool["description"] for e in catalog] == ["Calls /alpha.", "Calls /beta, edited."]
    assert f"{lazy_package}.beta" in sys.modules and f"{lazy_package}.alpha" not in sys.modules


def test_digests_ignore_line_ends_and_agree_with_the_generator() -> None:
    assert source_digest(b"a\r\nb\n") == source_digest(b"a\nb\n") == generator_digest(b"a\nb\n")
    assert source_digest(b"a") != source_digest(b"b")


def test_a_listing_that_does_not_match_its_module_is_refused(
    lazy_package: str, tmp_path: Path
) -> None:
    file = tmp_path / lazy_package / "listing.json"
    text = file.read_text()
    file.write_text(text.replace('"module": "alpha"', '"module": "beta"'))
    with pytest.raises(RuntimeError, match="does not define the tool 'alpha'"):
        Catalog.read(lazy_package)  # beta.py has not alpha's digest: imported at once
    beta = source_digest((tmp_path / lazy_package / "beta.py").read_bytes())
    lines = file.read_text().split("\n")
    alpha = json.loads(lines[1].split(', "tool": ')[0] + "}")["digest"]
    lines[1] = lines[1].replace(alpha, beta)
    file.write_text("\n".join(lines))
    catalog = Catalog.read(lazy_package)
    with pytest.raises(RuntimeError, match="does not define the tool 'alpha'"):
        catalog.load("alpha")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not a tool listing of format 1"),
        ('{"format": 9, "operations": [\n]}\n', "not a tool listing of format 1"),
        ('{"format": 1, "operations": [\n{"name": "x"}\n]}\n', "malformed"),
        (
            '{"format": 1, "operations": [\n{"name": "x", "module": "x", "kind": "tool", '
            '"method": "GET", "path": "/", "tool": {"name":"x"}}\n]}\n',
            "malformed",
        ),
    ],
)
def test_a_broken_listing_file_says_so(
    lazy_package: str, tmp_path: Path, content: str, message: str
) -> None:
    root = tmp_path / lazy_package
    (root / "listing.json").write_text(content)
    with pytest.raises(RuntimeError, match=message):
        Catalog.read(lazy_package)


def test_a_missing_listing_file_says_so(lazy_package: str, tmp_path: Path) -> None:
    (tmp_path / lazy_package / "listing.json").unlink()
    with pytest.raises(RuntimeError, match="cannot read the tool listing"):
        Catalog.read(lazy_package)


def test_health_counts_tools_without_importing_them(lazy_package: str) -> None:
    server = server_of(Catalog.read(lazy_package))
    with TestClient(create_http_app(server), base_url=BASE) as http:
        health = http.get("/healthz")
    assert health.json() == {"status": "ok", "tools": 2}
    assert f"{lazy_package}.alpha" not in sys.modules


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
