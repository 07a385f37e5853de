"""The console script: `<script> --transport http|stdio|sse [--host H] [--port P]`."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Sequence

import anyio
import uvicorn
from starlette.applications import Starlette

from .config import Settings
from .definitions import ProjectInfo
from .logs import configure_logging
from .server import ApiServer, transport_security

__all__ = ["run"]


def _parser(project: ProjectInfo) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=project.script, description=project.description)
    parser.add_argument(
        "--transport",
        choices=["http", "stdio", "sse"],
        default="http",
        help="http: Streamable HTTP at /mcp (default); stdio: for local clients; "
        "sse: legacy HTTP+SSE",
    )
    parser.add_argument("--host", help="address to listen on (MCP_HOST, default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, help="port to listen on (MCP_PORT or PORT, default 8080)"
    )
    return parser


def run(
    project: ProjectInfo,
    create_server: Callable[[Settings], ApiServer],
    create_app: Callable[[Settings], Starlette],
    argv: Sequence[str] | None = None,
) -> None:
    """Parse the command line, read the environment, serve until stopped."""
    args = _parser(project).parse_args(argv)
    configure_logging()
    settings = Settings.from_env(project)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = dataclasses.replace(settings, **overrides)
    if args.transport == "stdio":
        anyio.run(_stdio, create_server(settings))
    elif args.transport == "sse":
        anyio.run(_sse, create_server(settings))
    else:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            proxy_headers=True,
            log_level="info",
            # Longer than clients' and proxies' own idle limits (httpx 5 s, load balancers
            # 60 s): a connection the server closes just as a client reuses it fails that
            # client's request.
            timeout_keep_alive=75,
        )


async def _stdio(server: ApiServer) -> None:
    async with server.upstream:
        await server.run_stdio_async()


async def _sse(server: ApiServer) -> None:
    settings = server.app_settings
    async with server.upstream:
        await server.run_sse_async(
            host=settings.host,
            port=settings.port,
            transport_security=transport_security(settings),
        )
