"""The serving benchmark's peer: a hand-written one-tool server on the official `mcp` SDK.

It does what the generated bookshop server does for `get_book`, with nothing else: one
shared `httpx.AsyncClient`, one upstream GET, the JSON reply returned as the tool's
structured result. Streamable HTTP at `/mcp`, stateless, JSON responses, served by
uvicorn on 127.0.0.1 with the same log level as a generated server (access log on)::

    .venv/bin/python bench/peer_server.py --port 8081 \
        --upstream http://127.0.0.1:8000/v1 --api-key bookshop-demo-key
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette

__all__ = ["create_app", "main"]


def create_app(upstream: str, api_key: str) -> Starlette:
    """The ASGI app: one tool, `get_book`, calling GET {upstream}/books/{book_id}."""
    client = httpx.AsyncClient(
        base_url=upstream, headers={"X-API-Key": api_key}, timeout=30.0, trust_env=False
    )
    server = MCPServer("bookshop-handwritten", version="0.0.1")

    @server.tool()
    async def get_book(book_id: str) -> dict[str, Any]:
        """Get one book by its identifier."""
        reply = await client.get(f"/books/{book_id}")
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()
        return data

    app = server.streamable_http_app(stateless_http=True, json_response=True)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with client, inner(app):
            yield

    app.router.lifespan_context = lifespan
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Hand-written one-tool MCP server (peer).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="base URL, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--api-key", required=True, help="value of the X-API-Key header")
    args = parser.parse_args(argv)
    app = create_app(args.upstream, args.api_key)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info")


if __name__ == "__main__":
    main()
