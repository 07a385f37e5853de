"""Calls to the upstream API: one shared httpx client, retries, credentials."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from .config import Settings
from .credentials import Applied, Credentials, NotConfiguredError, merge
from .definitions import ProjectInfo
from .encoding import (
    UNSET,
    Query,
    Unset,
    drop_unset,
    encode_path,
    encode_query,
    form_pairs,
    header_value,
    multipart_files,
    scalar,
)
from .observability import UPSTREAM_HOOKS

__all__ = ["IDEMPOTENT_METHODS", "NotConfiguredError", "Reply", "Upstream"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class Reply:
    """The upstream's answer."""

    status: int
    reason: str
    headers: httpx.Headers
    content: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_json(self) -> bool:
        media = str(self.headers.get("content-type", "")).split(";")[0].strip().lower()
        return media == "application/json" or media.endswith("+json")

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class Upstream:
    """The upstream API, shared by every tool call (one connection pool)."""

    def __init__(
        self,
        project: ProjectInfo,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.project = project
        self.settings = settings
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self.credentials = Credentials(project, settings)

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
            self._client = httpx.AsyncClient(
                base_url=self.settings.base_url,
                timeout=self.settings.timeout,
                transport=self._transport,
                headers={"user-agent": self.project.user_agent},
                follow_redirects=False,
                event_hooks=UPSTREAM_HOOKS,  # a log line, a metric and a span per call
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
        form: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        security: Sequence[Sequence[str]] = (),
    ) -> Reply:
        """Send one request with the credentials its security alternatives call for
        (`credentials.py`); when the upstream answers 401 to renewable credentials (OAuth
        tokens), renew them and send the request once more."""
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
        reply = await self._send(method, path, applied, **parts)
        if reply.status == 401 and await applied.renew():
            reply = await self._send(method, path, await self.credentials.apply(security), **parts)
        return reply

    async def _send(
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
        form: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> Reply:
        """Send one request; retry idempotent ones on connection errors and 502/503/504."""
        url = encode_path(path, path_params or {})
        params = encode_query(query)
        sent_headers = {k: header_value(k, v) for k, v in drop_unset(headers or {}).items()}
        sent_cookies = {k: scalar(v) for k, v in drop_unset(cookies or {}).items()}
        merge(applied, sent_headers, params, sent_cookies)
        content: dict[str, Any] = {}
        if isinstance(json_body, dict):
            content["json"] = drop_unset(json_body)
        elif not isinstance(json_body, Unset):
            content["json"] = json_body
        elif files is not None:
            content["files"] = multipart_files(drop_unset(files))
            content["data"] = dict(form_pairs(drop_unset(form or {})))
        elif form is not None:
            content["content"] = urlencode(form_pairs(drop_unset(form))).encode()
            sent_headers["Content-Type"] = "application/x-www-form-urlencoded"
        attempts = 1 + (self.settings.retries if method.upper() in IDEMPOTENT_METHODS else 0)
        for attempt in range(attempts):
            try:
                response = await self.client().request(
                    method,
                    url,
                    params=tuple(params),
                    headers=sent_headers,
                    cookies=sent_cookies or None,
                    **content,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError):
                if attempt + 1 >= attempts:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or attempt + 1 >= attempts:
                    return Reply(
                        response.status_code,
                        response.reason_phrase,
                        response.headers,
                        response.content,
                    )
            await asyncio.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")
