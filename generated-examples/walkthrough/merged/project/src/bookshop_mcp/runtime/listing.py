"""tools/list answered from bytes serialised once, never rebuilt per request.

A large API's tools/list is megabytes of JSON. Having the SDK validate and serialise it on
every request costs about 0.2 s of CPU per request on GitHub's 1,223 tools, which anyone
who may list tools can trigger again and again. Instead:

- `Listing` keeps each tool's JSON bytes (for generated tools, the bytes of
  tools/listing.json, never decoded on this path), and the joined bytes of each page of each
  caller's visible tools (a small LRU, keyed by the frozenset that
  `ApiServer.visible_tool_names` returns). A protocol version whose result surface would
  change a tool (checked once per version, with the SDK's own `serialize_server_result`, on
  a probe holding every field a generated tool has) gets bytes of its own, from that
  function's output.
- `SpliceListings`, the ASGI middleware that `create_http_app` puts around the app, marks
  every POST with a `ListingMark`. The request still goes the SDK's whole way: transport
  security, authentication (which wraps the MCP endpoint inside this middleware), the
  protocol era's checks, the JSON-RPC envelope, cache hints and the `serverInfo` stamp. The
  tools/list handler, seeing the mark, answers with a one-tool placeholder named by a
  random token and leaves the real array's bytes in the mark; the middleware swaps the
  placeholder array for those bytes as the answer goes out, and fixes `Content-Length`.
- The legacy HTTP+SSE transport answers a POSTed request on the client's other, long-lived
  GET stream: there the handler leaves the bytes in the middleware's table of pending
  answers (`across_requests`), and the placeholder is swapped in whichever response
  carries it.
- Over stdio, `SpliceStream` wraps the transport's write stream (`ApiServer.run_stdio_async`):
  the handler leaves the bytes in its table of pending answers, and the stream swaps the
  placeholder as the answer is written. An in-process client (no transport of ours) gets
  the whole list through the SDK.

Only the handler ever asks for a swap, and only for its own answer: a response without the
token passes through untouched, and a token that cannot be swapped cleanly falls back to
decoding the answer and replacing the placeholder there (counted in `fallbacks`, which the
runtime's tests require to stay 0), so a client never sees a placeholder.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from mcp import MCPError
from mcp.shared._stream_protocols import WriteStream
from mcp.shared.message import SessionMessage
from mcp.types import INVALID_PARAMS, ListToolsResult
from mcp_types.methods import serialize_server_result
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .definitions import tool_bytes

__all__ = [
    "MARK",
    "PROBE",
    "Listing",
    "ListingMark",
    "Page",
    "Pending",
    "SpliceCounts",
    "SpliceListings",
    "SpliceStream",
    "mark_of",
]

MARK = "mcpgen.tools_list"  # the ASGI scope key of a request's ListingMark
_CURSOR_PREFIX = "page-"
_VARIANTS = 16  # joined pages kept (each caller's visible set and page is one)
_TOKEN_PREFIX = "mcpgen-tools-"
_PENDING = 64  # answers waiting for another response to carry them (legacy SSE)
_PENDING_SECONDS = 120.0  # after which one is forgotten (its client went away)


# A tool with every field a generated tool (`ToolDef.wire()`) may have: a protocol version
# whose result surface keeps it as it is keeps every generated tool as it is.
PROBE: dict[str, Any] = {
    "name": "probe",
    "title": "Probe",
    "description": "Has every field of a generated tool.",
    "inputSchema": {
        "type": "object",
        "properties": {"a": {"type": "string", "description": "An argument."}},
        "required": ["a"],
        "additionalProperties": False,
    },
    "outputSchema": {"type": "object", "properties": {"b": {"type": "integer"}}},
    "annotations": {
        "readOnlyHint": True,
        "destructiveHint": False,
        "idempotentHint": True,
        "openWorldHint": True,
    },
}


@dataclass(frozen=True)
class Page:
    """One page of a caller's tools/list: the tools' positions and the next page's cursor."""

    key: tuple[frozenset[str] | None, int]  # (visible names or None for all, page number)
    positions: tuple[int, ...]
    next_cursor: str | None


class Listing:
    """The tools of one server as tools/list shows them, in a fixed order.

    `tools` are (name, JSON bytes) pairs, each the tool as the SDK would dump it; `probe`
    holds the decoded tools whose fields `PROBE` may not cover (hand-written ones);
    `page_size` 0 puts every tool on one page.
    """

    def __init__(
        self,
        tools: Sequence[tuple[str, bytes]],
        page_size: int = 0,
        probe: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.names = tuple(name for name, _ in tools)
        self.raw = tuple(raw for _, raw in tools)
        self.page_size = page_size
        self.probe = [PROBE, *(dict(tool) for tool in probe)]
        self._decoded: tuple[dict[str, Any], ...] | None = None
        self._surfaces: dict[str, str] = {}  # version → "" (tools as they are) or version
        self._bytes: dict[str, tuple[bytes, ...]] = {"": self.raw}  # surface → tools' bytes
        self._arrays: OrderedDict[tuple[str, frozenset[str] | None, int], bytes] = OrderedDict()

    @property
    def tools(self) -> tuple[dict[str, Any], ...]:
        """The tools decoded (once, on first use: the fast path never needs them)."""
        if self._decoded is None:
            self._decoded = tuple(json.loads(raw) for raw in self.raw)
        return self._decoded

    def page(self, cursor: str | None, visible: frozenset[str] | None) -> Page:
        """The page `cursor` names (the first when None) of the tools in `visible`."""
        if visible is None:
            positions: Sequence[int] = range(len(self.names))
        else:
            positions = [i for i, name in enumerate(self.names) if name in visible]
        number = 0
        if cursor is not None:
            digits = cursor.removeprefix(_CURSOR_PREFIX)
            if not cursor.startswith(_CURSOR_PREFIX) or not digits.isdigit():
                raise MCPError(code=INVALID_PARAMS, message="Invalid cursor")
            number = int(digits)
            if not self.page_size or number * self.page_size >= len(positions):
                raise MCPError(code=INVALID_PARAMS, message="Invalid cursor")
        if not self.page_size:
            return Page((visible, 0), tuple(positions), None)
        start = number * self.page_size
        chosen = tuple(positions[start : start + self.page_size])
        more = start + self.page_size < len(positions)
        return Page((visible, number), chosen, f"{_CURSOR_PREFIX}{number + 1}" if more else None)

    def envelope(self, page: Page) -> dict[str, Any]:
        """The result around the page's tools, as the SDK's own result type dumps it."""
        result = ListToolsResult(tools=[], next_cursor=page.next_cursor)
        return result.model_dump(by_alias=True, mode="json", exclude_none=True)

    def result(self, page: Page) -> dict[str, Any]:
        """The whole result, for the SDK to validate and serialise (the slow way)."""
        return {**self.envelope(page), "tools": [dict(self.tools[i]) for i in page.positions]}

    def array(self, version: str, page: Page) -> bytes:
        """The page's `tools` array as JSON bytes for a client of protocol `version`."""
        surface = self._surface(version, page)
        key = (surface, *page.key)
        found = self._arrays.get(key)
        if found is not None:
            self._arrays.move_to_end(key)
            return found
        each = self._tool_bytes(surface, page)
        joined = b"[" + b",".join(each[i] for i in page.positions) + b"]"
        self._arrays[key] = joined
        if len(self._arrays) > _VARIANTS:
            self._arrays.popitem(last=False)
        return joined

    def _surface(self, version: str, page: Page) -> str:
        """ "" when the SDK's result surface for `version` keeps every tool as it is, else
        `version` (whose tools are then put through that surface once)."""
        known = self._surfaces.get(version)
        if known is None:
            probe = self.probe
            try:
                kept = serialize_server_result(
                    "tools/list", version, {**self.envelope(page), "tools": probe}
                )["tools"]
            except (KeyError, ValueError, ValidationError):
                kept = None
            known = "" if kept == probe else version
            self._surfaces[version] = known
        return known

    def _tool_bytes(self, surface: str, page: Page) -> tuple[bytes, ...]:
        found = self._bytes.get(surface)
        if found is None:
            everything = {**self.envelope(page), "tools": [dict(t) for t in self.tools]}
            shaped = serialize_server_result("tools/list", surface, everything)["tools"]
            found = tuple(tool_bytes(tool) for tool in shaped)
            self._bytes[surface] = found
        return found


Pending = OrderedDict[str, tuple[bytes, float]]  # token → (array, when it was left)


class ListingMark:
    """Left on a POST's ASGI scope by `SpliceListings`: the tools/list handler puts the
    real array's bytes here (or, for the legacy SSE transport, in the middleware's table of
    pending answers) and answers with a placeholder named by `token`."""

    __slots__ = ("array", "pending", "token")

    def __init__(self, pending: Pending | None = None) -> None:
        self.token: str | None = None
        self.array = b""
        self.pending = pending

    def usable(self) -> bool:
        """False when too many answers are already waiting: list the slow way then."""
        if self.pending is None:
            return True
        now = time.monotonic()
        while self.pending and next(iter(self.pending.values()))[1] < now - _PENDING_SECONDS:
            self.pending.popitem(last=False)
        return len(self.pending) < _PENDING

    def placeholder(self, array: bytes) -> dict[str, Any]:
        """A tool standing for `array` in the handler's result (a fresh random name)."""
        self.token = _TOKEN_PREFIX + secrets.token_hex(16)
        self.array = array
        if self.pending is not None:
            self.pending[self.token] = (array, time.monotonic())
        return {"name": self.token, "inputSchema": {"type": "object"}}


def mark_of(request: object) -> ListingMark | None:
    """The mark of the HTTP request a handler serves (`ctx.request`), if it has one.

    Only a tools/list request uses it: the 2026 era names the method in a header, and a
    tools/list run on behalf of another request must not answer with a placeholder.
    """
    scope = getattr(request, "scope", None)
    if not isinstance(scope, dict):
        return None
    mark = cast(dict[str, Any], scope).get(MARK)
    if not isinstance(mark, ListingMark) or mark.token is not None or not mark.usable():
        return None
    headers = getattr(request, "headers", None)
    method = headers.get("mcp-method") if isinstance(headers, Mapping) else None
    return mark if method in (None, "tools/list") else None


@dataclass
class SpliceCounts:
    """How tools/list answers were sent: `spliced` with the bytes swapped in directly,
    `fallbacks` after decoding the answer (the SDK wrote the placeholder in a form this
    module does not expect: still right, but slow)."""

    spliced: int = 0
    fallbacks: int = 0


class SpliceListings:
    """ASGI middleware: swaps a tools/list placeholder for the precomputed bytes.

    `across_requests`: for the legacy HTTP+SSE transport, where the answer to a POST goes
    out on the client's GET stream; every response body is then looked at for a pending
    placeholder.
    """

    def __init__(
        self, app: ASGIApp, counts: SpliceCounts | None = None, *, across_requests: bool = False
    ) -> None:
        self.app = app
        self.counts = counts if counts is not None else SpliceCounts()
        self.pending: Pending | None = OrderedDict() if across_requests else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.pending is not None and scope["type"] == "http":
            await self._across_requests(scope, receive, send, self.pending)
            return
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        mark = ListingMark()
        scope[MARK] = mark
        held: Message | None = None
        buffered: list[bytes] = []

        async def send_spliced(message: Message) -> None:
            nonlocal held
            if mark.token is None:
                await send(message)
            elif message["type"] == "http.response.start":
                if any(key.lower() == b"content-length" for key, _ in message["headers"]):
                    held = message  # sent once the body's new length is known
                else:
                    await send(message)
            elif message["type"] != "http.response.body":
                await send(message)
            elif held is None:  # a streamed answer (SSE): the event is in one chunk
                body = message.get("body", b"")
                await send({**message, "body": self._swap(body, mark, sse=True)})
            else:
                buffered.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = self._swap(b"".join(buffered), mark, sse=False)
                headers = [(k, v) for k, v in held["headers"] if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                start, held = {**held, "headers": headers}, None
                await send(start)
                await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, send_spliced)

    async def _across_requests(
        self, scope: Scope, receive: Receive, send: Send, pending: Pending
    ) -> None:
        if scope.get("method") == "POST":
            scope[MARK] = ListingMark(pending)

        async def send_swapped(message: Message) -> None:
            body = message.get("body", b"") if message["type"] == "http.response.body" else b""
            if pending and _TOKEN_PREFIX.encode() in body:
                for token in [t for t in pending if t.encode() in body]:
                    array, _ = pending.pop(token)
                    body = self._swap_token(body, token, array, sse=True)
                message = {**message, "body": body}
            await send(message)

        await self.app(scope, receive, send_swapped)

    def _swap(self, body: bytes, mark: ListingMark, *, sse: bool) -> bytes:
        """`body` with the placeholder array replaced; unchanged when it has none."""
        token = mark.token
        if token is None or token.encode() not in body:
            return body
        mark.token = None  # one answer per request
        return self._swap_token(body, token, mark.array, sse=sse)

    def _swap_token(self, body: bytes, token: str, array: bytes, *, sse: bool) -> bytes:
        return _swap_counted(body, token, array, self.counts, sse=sse)


class SpliceStream:
    """The stdio transport's write stream, swapping a tools/list placeholder for the
    precomputed bytes as the answer goes out.

    The SDK's stdio writer sends each message as `message.model_dump_json(by_alias=True,
    exclude_unset=True)` plus a newline. An answer holding a pending placeholder is dumped
    here the same way (it is one small tool), spliced, and handed on as a `Written` message
    whose dump is that text. `tests/runtime/test_listing.py` runs the SDK's own
    `stdio_server` and fails when its writer stops dumping messages this way.
    """

    def __init__(self, inner: WriteStream[SessionMessage], counts: SpliceCounts) -> None:
        self.inner = inner
        self.counts = counts
        self.pending: Pending = OrderedDict()

    async def send(self, item: SessionMessage, /) -> None:
        if self.pending:
            text = item.message.model_dump_json(by_alias=True, exclude_unset=True)
            tokens = [token for token in self.pending if token in text]
            if tokens:
                body = text.encode()
                for token in tokens:
                    array, _ = self.pending.pop(token)
                    body = _swap_counted(body, token, array, self.counts, sse=False)
                written = cast(Any, Written(body.decode()))
                item = SessionMessage(written, item.metadata)
        await self.inner.send(item)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def __aenter__(self) -> SpliceStream:
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        return await self.inner.__aexit__(*exc)


@dataclass(frozen=True)
class Written:
    """A JSON-RPC message already written as JSON text (see `SpliceStream`)."""

    text: str

    def model_dump_json(self, **_: Any) -> str:
        return self.text


def _swap_counted(
    body: bytes, token: str, array: bytes, counts: SpliceCounts, *, sse: bool
) -> bytes:
    swapped = _swap_array(body, token, array)
    if swapped is not None:
        counts.spliced += 1
        return swapped
    counts.fallbacks += 1
    return _swap_decoded(body, token, array, sse=sse)


def _swap_array(body: bytes, token: str, array: bytes) -> bytes | None:
    """Replace the JSON array around the placeholder, found without decoding the body: the
    placeholder holds no brackets, so the nearest ones around its name enclose it."""
    at = body.find(token.encode())
    start = body.rfind(b"[", 0, at)
    end = body.find(b"]", at)
    if start < 0 or end < 0:
        return None
    try:
        segment = json.loads(body[start : end + 1])
    except ValueError:
        return None
    if not (isinstance(segment, list) and len(segment) == 1 and _is_placeholder(segment[0], token)):
        return None
    return body[:start] + array + body[end + 1 :]


def _is_placeholder(item: Any, token: str) -> bool:
    return isinstance(item, dict) and cast(dict[str, Any], item).get("name") == token


def _swap_decoded(body: bytes, token: str, array: bytes, *, sse: bool) -> bytes:
    """The slow way: decode the JSON-RPC answer, replace the tools, encode it again."""
    if not sse:
        return _replace_in_message(body, token, array)
    lines = body.split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(b"data:") and token.encode() in line:
            ending = b"\r" if line.endswith(b"\r") else b""
            data = line[5:].strip()
            lines[i] = b"data: " + _replace_in_message(data, token, array) + ending
    return b"\n".join(lines)


def _replace_in_message(data: bytes, token: str, array: bytes) -> bytes:
    message = json.loads(data)
    result = message.get("result") if isinstance(message, dict) else None
    if not isinstance(result, dict):
        raise RuntimeError("a tools/list answer holds its placeholder outside its result")
    tools = result.get("tools")
    if not (isinstance(tools, list) and len(tools) == 1 and _is_placeholder(tools[0], token)):
        raise RuntimeError("a tools/list answer holds its placeholder in an unknown form")
    result["tools"] = json.loads(array)
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
