"""The runtime (mcpgen.runtime) tested directly, as ordinary code, against a real upstream.

`recorder` is a real HTTP server on 127.0.0.1 that records every request and answers with
whatever the test queued; `project` and `tool` build the values a generated project declares.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mcpgen.runtime.definitions import ProjectInfo, Scheme
from tests.support import net


@dataclass
class Seen:
    method: str
    raw_path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """Records requests; answers each with the next queued (status, headers, body)."""

    seen: list[Seen] = field(default_factory=list)
    replies: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)

    def queue(self, status: int, body: Any = b"", content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else __import__("json").dumps(body).encode()
        self.replies.append((status, {"content-type": content_type}, data))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        request = Request(scope, receive)
        self.seen.append(
            Seen(
                request.method,
                scope["raw_path"].decode(),
                scope["query_string"].decode(),
                {k.lower(): v for k, v in request.headers.items()},
                await request.body(),
            )
        )
        status, headers, body = self.replies.pop(0) if self.replies else (200, {}, b"")
        await Response(body, status_code=status, headers=headers)(scope, receive, send)


@pytest.fixture(scope="module")
def _server() -> Iterator[tuple[list[Recorder], str]]:
    holder: list[Recorder] = [Recorder()]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await holder[0](scope, receive, send)

    with net.serve_in_thread(app) as url:
        yield holder, url


@pytest.fixture
def recorder(_server: tuple[list[Recorder], str]) -> tuple[Recorder, str]:
    """A fresh recorder behind the module's server, and the server's base URL."""
    holder, url = _server
    holder[0] = Recorder()
    return holder[0], url


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_project(**changes: Any) -> ProjectInfo:
    values: dict[str, Any] = {
        "name": "demo",
        "title": "Demo API (MCP)",
        "version": "1.0.0",
        "instructions": "Tools for the demo.",
        "description": "A demo.",
        "script": "demo-mcp",
        "default_base_url": "",
        "user_agent": "demo-mcp/1.0.0 (mcpgen test)",
        "schemes": {
            "key": Scheme(kind="api_key", variables=("DEMO_KEY",), param="X-Key"),
            "query": Scheme(kind="api_key", variables=("DEMO_Q",), location="query", param="k"),
            "cookie": Scheme(kind="api_key", variables=("DEMO_C",), location="cookie", param="sid"),
            "token": Scheme(kind="bearer", variables=("DEMO_TOKEN",)),
            "basic": Scheme(kind="basic", variables=("DEMO_USER", "DEMO_PASS")),
        },
    }
    values.update(changes)
    return ProjectInfo(**values)
