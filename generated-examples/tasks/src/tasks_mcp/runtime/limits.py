"""Bounds on what one caller can make the server do.

- `check_arguments`: schema validation that stops after a few errors, with a bounded
  message; arguments nested too deep are refused before anything walks them recursively, and
  large ones are validated in a worker thread so that the event loop (and every other
  request, `/healthz` included) never waits on one caller's input.
- `RequestGuard`: the HTTP front of `/mcp`: a request body over `MCP_MAX_REQUEST_BYTES` is
  refused (413) before it is parsed, one that is not JSON gets 415, and methods other than
  POST get 405 (a stateless server has no stream to offer on GET and no session to end on
  DELETE). Each answer carries a JSON-RPC error object.
- The body is read from the socket once, by `RequestGuard`, into one `bytes` object that every
  layer behind it shares: `buffered_body(scope)` gives it to a layer that looks at it (the auth
  gate), and the `receive` the app gets hands that same object on, then forgets it. The MCP
  SDK's own body limit (set to the same `MCP_MAX_REQUEST_BYTES`) would copy it into a buffer of
  its own; `SharedBodyLimit` lets a request whose body was already read and bounded skip it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from mcp.server.transport_security import RequestBodyLimitMiddleware
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:  # imported on the first call that validates (server.validator)
    from jsonschema import Draft202012Validator

__all__ = [
    "BODY_KEY",
    "MAX_DEPTH",
    "MAX_PROBLEMS",
    "InputTooDeepError",
    "RequestGuard",
    "SharedBodyLimit",
    "buffered_body",
    "check_arguments",
    "problems",
    "read_body",
    "replay_body",
]

MAX_PROBLEMS = 5  # errors reported per call; validation stops at the next one
MAX_PROBLEM_TEXT = 300  # characters of one error message
MAX_DEPTH = 64  # nesting of arrays and objects in arguments
_INLINE_WEIGHT = 2_000  # arguments above this weight are validated in a worker thread


class InputTooDeepError(ValueError):
    """Arguments nested deeper than MAX_DEPTH."""


def _weigh(instance: Any, limit: int) -> int:
    """Nodes plus string length / 64, counted iteratively up to `limit`; raises
    InputTooDeepError past MAX_DEPTH. Never recursive, never past `limit` units of work."""
    weight = 0
    stack: list[tuple[Any, int]] = [(instance, 0)]
    while stack:
        value, depth = stack.pop()
        weight += 1
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise InputTooDeepError(f"arguments are nested deeper than {MAX_DEPTH} levels")
            children = value.values() if isinstance(value, dict) else value
            weight += len(value)
            if weight > limit:
                return weight
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(value, str):
            weight += len(value) // 64
        if weight > limit:
            return weight
    return weight


def _depth_ok(instance: Any) -> None:
    """The full depth check (iterative), for arguments too large to weigh inline."""
    stack: list[tuple[Any, int]] = [(instance, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise InputTooDeepError(f"arguments are nested deeper than {MAX_DEPTH} levels")
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)


def problems(validator: Draft202012Validator, instance: Any) -> list[str]:
    """The first MAX_PROBLEMS ways `instance` breaks the schema, one bounded line each, then
    `…` when there are more. Validation stops there: a million wrong items cost as much as
    six."""
    errors: Iterator[Any] = validator.iter_errors(instance)
    found: list[str] = []
    for error in itertools.islice(errors, MAX_PROBLEMS + 1):
        if len(found) == MAX_PROBLEMS:
            found.append("… (more problems not shown)")
            break
        where = "/".join(str(p) for p in error.absolute_path)
        message = _clip(str(error.message))
        found.append(f"{_clip(where, 100)}: {message}" if where else message)
    return found


def _clip(text: str, limit: int = MAX_PROBLEM_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check(validator: Draft202012Validator, instance: Any) -> list[str]:
    _depth_ok(instance)
    return problems(validator, instance)


async def check_arguments(validator: Draft202012Validator, arguments: Any) -> list[str]:
    """What is wrong with `arguments` (empty when valid). Deep nesting raises
    InputTooDeepError; large arguments are checked in a worker thread."""
    if _weigh(arguments, _INLINE_WEIGHT) <= _INLINE_WEIGHT:
        return problems(validator, arguments)
    return await anyio.to_thread.run_sync(_check, validator, arguments)


BODY_KEY = "mcpgen.body"  # the scope entry holding the body RequestGuard read


class RequestGuard:
    """ASGI middleware in front of the MCP endpoint: size cap and allowed methods. It reads
    the body of a POST (the only read from the socket) and passes it on in the scope
    (`buffered_body`) and through `receive`, without a copy."""

    def __init__(self, app: ASGIApp, *, path: str, max_bytes: int) -> None:
        self.app = app
        self.path = path
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.path:
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            await _reply(
                send,
                405,
                "Method Not Allowed: this server is stateless; send JSON-RPC requests with POST",
                allow="POST",
            )
            return
        if _media_type(scope) != "application/json":
            await _reply(send, 415, "Unsupported Media Type: Content-Type must be application/json")
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _reply(send, 413, self._too_large())
            return
        try:
            body = await read_body(receive, self.max_bytes)
        except ClientDisconnect:
            return
        if body is None:
            await _reply(send, 413, self._too_large())
            return
        await self.app({**scope, BODY_KEY: body}, replay_body(body, receive), send)

    def _too_large(self) -> str:
        return f"Request body over the {self.max_bytes:,}-byte limit (MCP_MAX_REQUEST_BYTES)"


def _media_type(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == b"content-type":
            return str(value.decode("latin-1")).split(";")[0].strip().lower()
    return ""


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def read_body(receive: Receive, max_bytes: int) -> bytes | None:
    """The whole request body as one `bytes` object, or None as soon as it grows past
    `max_bytes` (the rest is left unread). Raises ClientDisconnect when the client leaves
    before the end."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            return None
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)  # a single chunk is returned as is, not copied


def buffered_body(scope: Scope) -> bytes | None:
    """The body RequestGuard read for this request (None when it read none)."""
    body = scope.get(BODY_KEY)
    return body if isinstance(body, bytes) else None


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read (the same object, once, then
    forgotten), then the client's own events."""
    pending = [body]

    async def replay() -> Message:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        return await receive()

    return replay


class SharedBodyLimit(RequestBodyLimitMiddleware):
    """The MCP SDK's body limit, except for a request whose body RequestGuard already read
    and bounded: that one goes straight to the SDK's handler, which then reads the shared
    body from `receive` instead of the SDK copying it into a buffer of its own first."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = buffered_body(scope)
        if body is not None and len(body) <= self.max_body_size:
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


async def _reply(send: Send, status: int, message: str, *, allow: str | None = None) -> None:
    """An HTTP error carrying a JSON-RPC error object, as the MCP transport's own errors do."""
    body = json.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if allow is not None:
        headers.append((b"allow", allow.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
