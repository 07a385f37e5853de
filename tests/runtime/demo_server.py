"""The runtime's demo server as a process of its own, started the way the console script
starts a generated server (`runtime.cli`): `python -m tests.runtime.demo_server`.

The environment configures it as it configures a generated server (UPSTREAM_BASE_URL,
MCP_PORT, OTEL_*, MCP_SHUTDOWN_TIMEOUT, ...). Its tools are those of tests/runtime/test_server.py.
"""

from __future__ import annotations

import sys

from starlette.applications import Starlette

from mcpgen.runtime.cli import run
from mcpgen.runtime.config import Settings
from mcpgen.runtime.server import ApiServer, create_http_app
from tests.runtime.conftest import make_project
from tests.runtime.test_server import ITEM, LIST

PROJECT = make_project()


def create_server(settings: Settings) -> ApiServer:
    return ApiServer(PROJECT, settings, [ITEM, LIST])


def create_app(settings: Settings) -> Starlette:
    return create_http_app(create_server(settings))


if __name__ == "__main__":
    run(PROJECT, create_server, create_app, sys.argv[1:])
