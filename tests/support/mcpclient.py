"""The official Python MCP client (`mcp` 2.3) pointed at a server on 127.0.0.1.

`mode` is the SDK's own: "auto" (default; probes `server/discover` and falls back to
the 2025 `initialize` handshake), "legacy" (always the handshake), or a modern
protocol version such as "2026-07-28" (adopted without a probe).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import httpx2
from mcp import Client
from mcp.client.auth import TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthToken
from mcp.types import CallToolResult, TextContent, Tool

__all__ = [
    "call_tool",
    "call_tool_sync",
    "connect",
    "list_tools",
    "list_tools_sync",
    "text_of",
]

DEFAULT_TIMEOUT = 20.0


@asynccontextmanager
async def connect(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    mode: str = "auto",
    timeout: float = DEFAULT_TIMEOUT,
) -> AsyncIterator[Client]:
    """A connected `mcp.Client` for `url` (e.g. `http://127.0.0.1:PORT/mcp`).

    `headers` go on every HTTP request (e.g. `{"Authorization": "Bearer T"}`). The
    whole block, connecting included, must finish within `timeout` seconds, or it
    raises TimeoutError. A server that answers with an HTTP error (401, 404...)
    raises `mcp.MCPError`.
    """
    try:
        with anyio.fail_after(timeout):
            async with httpx2.AsyncClient(
                headers=dict(headers or {}), timeout=httpx2.Timeout(timeout), trust_env=False
            ) as http:
                transport = streamable_http_client(url, http_client=http)
                async with Client(transport, mode=mode, read_timeout_seconds=timeout) as client:
                    yield client
    except BaseExceptionGroup as group:
        # The SDK's task groups wrap a single failure (an MCPError, a failed assert in
        # the block) in nested groups; raise the failure itself.
        sole = _sole_exception(group)
        if sole is group:
            raise
        raise sole from group


def _sole_exception(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


async def call_tool(
    url: str,
    name: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    mode: str = "auto",
    timeout: float = DEFAULT_TIMEOUT,
) -> CallToolResult:
    """Connect, call one tool, disconnect. Tool errors come back as `is_error=True`."""
    async with connect(url, headers=headers, mode=mode, timeout=timeout) as client:
        return await client.call_tool(name, dict(arguments or {}))


async def list_tools(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    mode: str = "auto",
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Tool]:
    """Every tool the server lists, following pagination cursors."""
    tools: list[Tool] = []
    async with connect(url, headers=headers, mode=mode, timeout=timeout) as client:
        cursor: str | None = None
        while True:
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                return tools


def call_tool_sync(
    url: str,
    name: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    mode: str = "auto",
    timeout: float = DEFAULT_TIMEOUT,
) -> CallToolResult:
    """`call_tool` for synchronous tests (runs its own event loop)."""

    async def run() -> CallToolResult:
        return await call_tool(url, name, arguments, headers=headers, mode=mode, timeout=timeout)

    return anyio.run(run)


def list_tools_sync(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    mode: str = "auto",
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Tool]:
    """`list_tools` for synchronous tests (runs its own event loop)."""

    async def run() -> list[Tool]:
        return await list_tools(url, headers=headers, mode=mode, timeout=timeout)

    return anyio.run(run)


def text_of(result: CallToolResult) -> str:
    """The result's text blocks joined with newlines."""
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


class MemoryTokens(TokenStorage):
    """The SDK OAuth client's token storage, in memory: one client, one sign-in."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def code_of(landed: str) -> AuthorizationCodeResult:
    """What the SDK OAuth client's callback returns, from the URL the browser landed on."""
    query = httpx.URL(landed).params
    return AuthorizationCodeResult(
        code=query["code"], state=query.get("state"), iss=query.get("iss")
    )


async def call_with_auth(
    url: str, auth: httpx2.Auth, tool: str, arguments: Mapping[str, Any]
) -> tuple[list[str], CallToolResult]:
    """List the tools and call one through the official client, signed in by `auth` (the
    SDK's OAuth client providers)."""
    async with httpx2.AsyncClient(auth=auth, timeout=30, trust_env=False) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode="legacy") as client:
            names = [t.name for t in (await client.list_tools()).tools]
            return names, await client.call_tool(tool, dict(arguments))
