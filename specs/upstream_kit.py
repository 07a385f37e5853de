"""What the example upstream apps (specs/*/upstream.py) share.

- `RequestLog` and `RecordedRequest`: every request an app received, as sent on the wire.
- `build_app`: a Starlette app that records each request, then checks its credentials,
  then routes it on its raw, still percent-encoded path (`/books/..%2Fadmin` is the
  resource whose id is `../admin`), with one `route` per path dispatching on the method.
- Request parsing (`path_param`, `single`, `json_body`, `is_int`) that raises
  `InvalidRequestError`, answered 422 in the app's own error format.
- `serve`: the script entry point's start-up banner and server on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import parse_qsl, unquote_to_bytes

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ErrorResponse",
    "Handler",
    "InvalidRequestError",
    "RecordedRequest",
    "RequestLog",
    "build_app",
    "is_int",
    "json_body",
    "path_param",
    "route",
    "serve",
    "single",
]

# --- request log -------------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request as received: `raw_path` and `query` exactly as sent on the wire."""

    method: str
    raw_path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None  # set just before the response starts

    @property
    def target(self) -> str:
        """`raw_path` plus `?query` when there is one."""
        return f"{self.raw_path}?{self.query}" if self.query else self.raw_path

    def query_params(self) -> list[tuple[str, str]]:
        """The decoded query parameters, in order, repeats kept."""
        return parse_qsl(self.query, keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body)


class RequestLog:
    """Every request an app received, oldest first; safe to read from another thread."""

    def __init__(self) -> None:
        self._items: list[RecordedRequest] = []
        self._lock = threading.Lock()

    def append(self, request: RecordedRequest) -> None:
        with self._lock:
            self._items.append(request)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def last(self) -> RecordedRequest:
        with self._lock:
            if not self._items:
                raise LookupError("no request was received")
            return self._items[-1]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class _RecordRequests:
    """Record each request, then route it on its raw (still percent-encoded) path."""

    def __init__(self, app: ASGIApp, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        raw_path: str = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key, text = name.decode("latin-1").lower(), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        record = RecordedRequest(
            scope["method"], raw_path, scope["query_string"].decode("latin-1"), headers, bytes(body)
        )
        self.log.append(record)

        async def replay() -> Message:
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            await send(message)

        await self.app({**scope, "path": raw_path}, replay, send_status)


# --- request parsing ---------------------------------------------------------------------


class InvalidRequestError(Exception):
    """A request the spec does not allow: answered 422 in the app's error format."""


def path_param(request: Request, name: str) -> str:
    """The path parameter `name`, percent-decoded (it is matched still encoded)."""
    raw: str = request.path_params[name]
    return unquote_to_bytes(raw.encode("latin-1")).decode("utf-8", "replace")


def single(request: Request, name: str) -> str | None:
    """The query parameter `name`, None when absent; invalid when given more than once."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise InvalidRequestError(f"{name}: given {len(values)} times, expected once")
    return values[0] if values else None


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 415 unless it is sent as application/json."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise HTTPException(415, f"expected Content-Type application/json, got {media_type!r}")
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise InvalidRequestError(f"body: not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise InvalidRequestError("body: must be a JSON object")
    return body


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


# --- the app -------------------------------------------------------------------------------

Handler = Callable[[Request], Awaitable[Response]]
ErrorResponse = Callable[[int, str, dict[str, str]], Response]
"""Renders an error in the app's format from its status, message and response headers."""


def route(path: str, **handlers: Handler) -> Route:
    """One route per path, dispatching on the method (so 405 lists every allowed one)."""

    async def dispatch(request: Request) -> Response:
        return await handlers[request.method if request.method != "HEAD" else "GET"](request)

    return Route(path, dispatch, methods=list(handlers))


def build_app(
    routes: list[Route],
    log: RequestLog,
    auth: Middleware,
    *,
    http_error: ErrorResponse,
    invalid: Callable[[str], Response],
) -> Starlette:
    """An app that records every request in `log`, then checks it with `auth`, then routes it.

    HTTP errors (404, 405 with a sorted Allow header, 415, ...) are answered by
    `http_error`, an `InvalidRequestError` by `invalid` with its message.
    """

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message, headers = exc.detail, dict(exc.headers or {})
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such resource: {request.method} {request.scope['path']}"
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(sorted(headers.get("Allow", "").split(", ")))
            message = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
        return http_error(exc.status_code, message, headers)

    async def on_invalid(request: Request, exc: Exception) -> Response:
        return invalid(str(exc))

    return Starlette(
        routes=routes,
        middleware=[Middleware(_RecordRequests, log=log), auth],
        exception_handlers={HTTPException: on_http_error, InvalidRequestError: on_invalid},
    )


def serve(app: Starlette, port: int, *banner: str) -> None:
    """Print the `banner` lines, then serve `app` on 127.0.0.1:`port` until stopped."""
    for line in banner:
        print(line, flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="info")
