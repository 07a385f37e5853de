"""The console script: `<script> --transport http|stdio|sse [--host H] [--port P]`."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
from collections.abc import Callable, Sequence
from types import FrameType

import anyio
import uvicorn
from starlette.applications import Starlette

from .auth import check_listen_address
from .config import Settings
from .definitions import ProjectInfo
from .logs import configure_logging
from .metrics import serve_metrics_port
from .observability import Observer, configure_tracing, observe_server, shutdown_tracing
from .server import ApiServer, create_sse_app

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
    configure_tracing(project)
    try:
        if args.transport == "stdio":
            anyio.run(_stdio, create_server(settings))
        elif args.transport == "sse":
            if settings.auth.mode != "none":
                raise SystemExit(
                    f"MCP_AUTH_MODE={settings.auth.mode} protects the Streamable HTTP transport "
                    "only: use --transport http (the legacy SSE transport has no authentication)"
                )
            check_listen_address(settings)
            anyio.run(_sse, create_server(settings))
        else:
            serve_http(create_app(settings), settings)
    finally:
        shutdown_tracing()


def serve_http(app: Starlette, settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, then drain: stop accepting, let the requests in flight
    finish within MCP_SHUTDOWN_TIMEOUT seconds (then cancel them), and return, so the
    process exits 0.

    X-Forwarded-For and X-Forwarded-Proto are believed only from MCP_TRUSTED_PROXIES.
    """
    ops = settings.ops
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        proxy_headers=bool(ops.trusted_proxies),
        forwarded_allow_ips=list(ops.trusted_proxies) or None,
        timeout_graceful_shutdown=max(1, round(ops.shutdown_timeout)),
        log_config=None,  # keep the JSON lines of configure_logging
        access_log=False,  # observability logs one line per request
        # Longer than clients' and proxies' own idle limits (httpx 5 s, load balancers 60 s):
        # a connection the server closes just as a client reuses it fails that request.
        timeout_keep_alive=75,
    )
    server = uvicorn.Server(config)
    observer = getattr(app.state, "observer", None)
    metrics_listener = (
        serve_metrics_port(observer.metrics, settings) if isinstance(observer, Observer) else None
    )
    # uvicorn re-raises the signal it stopped on once it has drained, which would kill the
    # process with that signal; a handler of our own in place takes the re-raise instead.
    previous = {sig: signal.signal(sig, _drained) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if metrics_listener is not None:
            metrics_listener.shutdown()
            metrics_listener.server_close()


def _drained(signum: int, frame: FrameType | None) -> None:
    logging.getLogger(__name__).info("stopped on %s", signal.Signals(signum).name)


async def _stdio(server: ApiServer) -> None:
    observe_server(server)
    async with server.upstream:
        await server.run_stdio_async()


async def _sse(server: ApiServer) -> None:
    observe_server(server)
    settings = server.app_settings
    ops = settings.ops
    config = uvicorn.Config(
        create_sse_app(server),
        host=settings.host,
        port=settings.port,
        proxy_headers=bool(ops.trusted_proxies),
        forwarded_allow_ips=list(ops.trusted_proxies) or None,
        log_config=None,  # keep the JSON lines of configure_logging
    )
    async with server.upstream:
        await uvicorn.Server(config).serve()
