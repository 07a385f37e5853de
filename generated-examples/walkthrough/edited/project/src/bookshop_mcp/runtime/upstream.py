"""Calls to the upstream API: one shared httpx client, bounded in every way.

Each call has one deadline (`UPSTREAM_TIMEOUT`) that covers waiting for a free slot, every
attempt, every retry and reading the reply. At most `UPSTREAM_MAX_CONCURRENCY` calls are in
flight; one that finds no free slot within a second fails at once rather than queueing. A
reply is read streamed and never past `UPSTREAM_MAX_BYTES`. Idempotent calls are retried on
connection failures and 429/502/503/504, after the wait the upstream asks for (`Retry-After`)
or a jittered backoff, and only while the deadline allows. Redirects are followed only within
the API's own origin, so that credentials never go to another host, and no cookie the
upstream sets is kept (the server is shared by every caller).
"""

from __future__ import annotations

import email.utils
import json
import random
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import anyio
import httpx

from .config import Settings
from .credentials import Applied, Credentials, NotConfiguredError, merge
from .definitions import ProjectInfo, Scheme
from .encoding import (
    UNSET,
    ArgumentError,
    Query,
    Unset,
    cookie_header,
    cookie_value,
    drop_unset,
    encode_path,
    encode_query,
    form_pairs,
    header_value,
    multipart_files,
)
from .observability import UPSTREAM_HOOKS

__all__ = [
    "IDEMPOTENT_METHODS",
    "NotConfiguredError",
    "Reply",
    "Upstream",
    "UpstreamError",
    "retry_after",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_REDIRECTS = 5
SLOT_WAIT = 1.0  # seconds a call waits for a free upstream slot before failing
_ERROR_READ = 64 * 1024  # bytes read of an error reply (its message is all that is used)
_BACKOFF = 0.25  # seconds; attempt n waits up to _BACKOFF * 2**n (full jitter)


class UpstreamError(RuntimeError):
    """A call that got no usable reply. The message is written for the caller: it never
    holds exception text, request headers or credentials."""


@dataclass(frozen=True)
class Reply:
    """The upstream's answer. `complete` is False when the body was cut at the size cap
    (`content` then holds its beginning only); `url` is the request URL without its query."""

    status: int
    reason: str
    headers: httpx.Headers
    content: bytes
    complete: bool = True
    url: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def media_type(self) -> str:
        return str(self.headers.get("content-type", "")).split(";")[0].strip().lower()

    @property
    def is_json(self) -> bool:
        media = self.media_type
        return media == "application/json" or media.endswith("+json")

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the upstream asks to wait (`Retry-After`: seconds or an HTTP date)."""
    raw = str(headers.get("retry-after", "")).strip()
    if not raw:
        return None
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _no_cookies() -> CookieJar:
    """A jar that keeps nothing: cookies set by the upstream for one caller must never be
    sent on another caller's requests."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class Upstream:
    """The upstream API, shared by every tool call (one connection pool)."""

    def __init__(
        self,
        project: ProjectInfo,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        learn: Callable[[str], None] = lambda token: None,
    ) -> None:
        """`learn` is told each credential obtained while running (to be redacted)."""
        self.project = project
        self.settings = settings
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self.credentials = Credentials(project, settings, learn=learn)
        self._slots: anyio.Semaphore | None = None
        self._reserved = _reserved_names(project.schemes.values())

    async def __aenter__(self) -> Upstream:
        if self.settings.base_url:
            self.client()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            if not self.settings.base_url:
                raise NotConfiguredError(
                    "the server has no upstream URL: set UPSTREAM_BASE_URL and restart it"
                )
            limit = self.settings.max_concurrency
            self._client = httpx.AsyncClient(
                base_url=self.settings.base_url,
                timeout=self.settings.timeout,
                transport=self._transport,
                headers={"user-agent": self.project.user_agent},
                follow_redirects=False,
                event_hooks=UPSTREAM_HOOKS,  # a log line, a metric and a span per call
                cookies=_no_cookies(),
                limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
            )
        return self._client

    async def aclose(self) -> None:
        await self.credentials.aclose()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, Any] | None = None,
        query: Sequence[Query] = (),
        headers: Mapping[str, Any] | None = None,
        cookies: Mapping[str, Any] | None = None,
        json_body: Any = UNSET,
        form: Mapping[str, Any] | Unset | None = None,
        files: Mapping[str, Any] | None = None,
        security: Sequence[Sequence[str]] = (),
    ) -> Reply:
        """Send one request with the credentials its security alternatives call for
        (`credentials.py`), within the call's deadline (see the module's description); when
        the upstream answers 401 to renewable credentials (OAuth tokens), renew them and send
        the request once more."""
        parts: dict[str, Any] = {
            "path_params": path_params,
            "query": query,
            "headers": headers,
            "cookies": cookies,
            "json_body": json_body,
            "form": form,
            "files": files,
        }
        applied = await self.credentials.apply(security)
        reply = await self._call(method, path, applied, **parts)
        if reply.status == 401 and await applied.renew():
            reply = await self._call(method, path, await self.credentials.apply(security), **parts)
        return reply

    async def _call(
        self,
        method: str,
        path: str,
        applied: Applied,
        *,
        path_params: Mapping[str, Any] | None = None,
        query: Sequence[Query] = (),
        headers: Mapping[str, Any] | None = None,
        cookies: Mapping[str, Any] | None = None,
        json_body: Any = UNSET,
        form: Mapping[str, Any] | Unset | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> Reply:
        """One call within its deadline: attempts, retries, redirects, the reply."""
        url = encode_path(path, path_params or {})
        params = encode_query(query)
        sent_headers = {k: header_value(k, v) for k, v in drop_unset(headers).items()}
        sent_cookies = {k: cookie_value(k, v) for k, v in drop_unset(cookies).items()}
        self._drop_reserved(sent_headers, params, sent_cookies)
        given_params = len(params)
        merge(applied, sent_headers, params, sent_cookies)
        if sent_cookies:
            sent_headers["Cookie"] = cookie_header(sent_cookies)
        call = _Call(
            method=method.upper(),
            url=url,
            params=params,
            credential_params=params[given_params:],
            headers=sent_headers,
            content=_content(json_body, form, files, sent_headers),
        )
        client = self.client()
        timeout = self.settings.timeout
        try:
            with anyio.fail_after(timeout):
                async with self._slot():
                    return await self._attempts(client, call, anyio.current_time() + timeout)
        except (TimeoutError, httpx.TimeoutException):
            raise UpstreamError(
                f"the upstream API did not answer within {timeout:g} s (UPSTREAM_TIMEOUT)"
            ) from None
        except httpx.HTTPError as exc:
            raise UpstreamError(_describe(exc, client.base_url)) from None

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        if self._slots is None:
            self._slots = anyio.Semaphore(self.settings.max_concurrency)
        slots = self._slots
        acquired = False
        with anyio.move_on_after(SLOT_WAIT):
            await slots.acquire()
            acquired = True
        if not acquired:
            raise UpstreamError(
                f"the server already has {self.settings.max_concurrency} upstream calls in "
                "flight (UPSTREAM_MAX_CONCURRENCY); try again in a moment"
            )
        try:
            yield
        finally:
            slots.release()

    async def _attempts(self, client: httpx.AsyncClient, call: _Call, deadline: float) -> Reply:
        idempotent = call.method in IDEMPOTENT_METHODS
        attempts = 1 + (self.settings.retries if idempotent else 0)
        for attempt in range(attempts):
            last = attempt + 1 >= attempts
            try:
                reply = await self._send(client, call)
            except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError) as exc:
                failure = UpstreamError(_describe(exc, client.base_url))
                if last:
                    raise failure from None
                wait = _backoff(attempt)
                if wait > deadline - anyio.current_time():
                    raise failure from None
            else:
                if reply.status not in RETRY_STATUSES or last:
                    return reply
                asked = retry_after(reply.headers)
                wait = asked if asked is not None else _backoff(attempt)
                if wait > deadline - anyio.current_time():
                    return reply  # the result names the wait the upstream asked for
                wait *= random.uniform(1.0, 1.1) if asked is not None else 1.0
            await anyio.sleep(wait)
        raise AssertionError("unreachable")

    async def _send(self, client: httpx.AsyncClient, call: _Call) -> Reply:
        """One attempt: the request, then same-origin redirects, then the reply read within
        the size cap."""
        method, url, params, content = call.method, call.url, call.params, call.content
        request = _build(client, method, url, params, call.headers, content)
        for _ in range(MAX_REDIRECTS + 1):
            response = await client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if not (response.is_redirect and location):
                    return await self._read(response, request)
                target = request.url.join(location)
                if not _same_origin(target, request.url):
                    raise UpstreamError(
                        f"the upstream API redirected {call.method} {request.url.path} to "
                        f"another host ({target.host}); not followed, so that credentials "
                        "stay with the API they are for"
                    )
            finally:
                await response.aclose()
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method == "POST"
            ):
                method, content = "GET", {}
            # The target's own query, then the credential (httpx would replace the query).
            params = [*target.params.multi_items(), *call.credential_params]
            location_url = str(target.copy_with(query=None))
            request = _build(client, method, location_url, params, call.headers, content)
        raise UpstreamError(f"the upstream API redirected more than {MAX_REDIRECTS} times")

    async def _read(self, response: httpx.Response, request: httpx.Request) -> Reply:
        cap = self.settings.max_reply_bytes
        limit = cap if response.is_success else min(cap, _ERROR_READ)
        body = bytearray()
        complete = True
        declared = response.headers.get("content-length", "")
        text = str(response.headers.get("content-type", "")).startswith("text/")
        if declared.isdigit() and int(declared) > limit and response.is_success and not text:
            complete = False  # not read at all: only the whole of it could be used
        else:
            try:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        complete = False
                        del body[limit:]
                        break
            except httpx.DecodingError:
                raise UpstreamError(
                    "the upstream API's reply could not be decoded (its Content-Encoding "
                    "does not match its body)"
                ) from None
        return Reply(
            response.status_code,
            response.reason_phrase,
            response.headers,
            bytes(body),
            complete=complete,
            url=str(request.url.copy_with(query=None)),
        )

    def _drop_reserved(
        self, headers: dict[str, str], params: list[tuple[str, str]], cookies: dict[str, str]
    ) -> None:
        """Parameters a security scheme supplies are not the caller's to set: a caller's value
        must never stand in for (or be sent beside) a credential."""
        reserved_headers, reserved_query, reserved_cookies = self._reserved
        for name in [h for h in headers if h.lower() in reserved_headers]:
            del headers[name]
        params[:] = [(k, v) for k, v in params if k not in reserved_query]
        for name in [c for c in cookies if c in reserved_cookies]:
            del cookies[name]


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    params: list[tuple[str, str]]
    credential_params: list[tuple[str, str]]
    headers: dict[str, str]
    content: dict[str, Any]


def _content(
    json_body: Any,
    form: Mapping[str, Any] | Unset | None,
    files: Mapping[str, Any] | None,
    headers: dict[str, str],
) -> dict[str, Any]:
    """The body as httpx keywords; nothing when no body argument was given."""
    if isinstance(json_body, dict):
        return {"json": drop_unset(json_body)}
    if not isinstance(json_body, Unset):
        return {"json": json_body}
    if files is not None:
        # Every field as a part of its own (a `None` file name makes a plain field), so that
        # the body is multipart/form-data even when no file is given.
        fields = [(name, (None, value)) for name, value in form_pairs(drop_unset(form))]
        parts = list(multipart_files(drop_unset(files)).items())
        return {"files": [*fields, *parts]}
    if form is None or isinstance(form, Unset):
        return {}
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return {"content": urlencode(form_pairs(drop_unset(form))).encode()}


def _build(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    params: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    content: Mapping[str, Any],
) -> httpx.Request:
    if not content:
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    try:
        return client.build_request(method, url, params=tuple(params), headers=headers, **content)
    except httpx.InvalidURL:
        raise ArgumentError(
            "the arguments make a request URL that cannot be sent (too long, or holding "
            "characters a URL cannot)"
        ) from None


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _backoff(attempt: int) -> float:
    """Full jitter: anywhere up to _BACKOFF * 2**attempt seconds."""
    return random.uniform(0, _BACKOFF * 2**attempt)


def _reserved_names(
    schemes: Iterable[Scheme],
) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The header (lower case), query and cookie names that the project's schemes fill."""
    headers: set[str] = set()
    query: set[str] = set()
    cookies: set[str] = set()
    for scheme in schemes:
        if scheme.kind in ("bearer", "basic", "oauth2") or scheme.location == "header":
            headers.add("authorization" if scheme.kind != "api_key" else scheme.param.lower())
        elif scheme.location == "query":
            query.add(scheme.param)
        else:
            cookies.add(scheme.param)
    return frozenset(headers), frozenset(query), frozenset(cookies)


def _describe(exc: httpx.HTTPError, base: httpx.URL) -> str:
    """What went wrong, for the caller, from the exception's type and cause (never its text,
    which may hold a header value)."""
    host = base.host or "the upstream host"
    causes: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(causes) < 10:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    for found in causes:
        if isinstance(found, socket.gaierror):
            return f"could not resolve the upstream host name {host!r} (DNS)"
        if isinstance(found, ssl.SSLCertVerificationError):
            reason = found.verify_message or "certificate not trusted"
            return f"the TLS certificate of {host} was refused ({reason})"
        if isinstance(found, ssl.SSLError):
            return f"the TLS handshake with {host} failed ({found.reason or 'TLS error'})"
        if isinstance(found, ConnectionRefusedError):
            return f"{host} refused the connection (is the API running at UPSTREAM_BASE_URL?)"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect to {host}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "the upstream URL is not an http(s) URL: check UPSTREAM_BASE_URL"
    if isinstance(exc, httpx.LocalProtocolError):
        return "the request could not be sent (it holds a header HTTP does not allow)"
    if isinstance(exc, httpx.ReadError | httpx.RemoteProtocolError):
        return "the connection to the upstream API broke before its reply was complete"
    return f"the request failed ({type(exc).__name__})"
