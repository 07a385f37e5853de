"""Do clients accept the tool schemas? The MCP Inspector's lint and a strict Ajv, many at once.

`check(listings, work)` takes tools/list results (label → tools) and returns every finding:

- the MCP Inspector CLI (`--method tools/list --strict --format json`), the same lint it runs
  against any server, connected over stdio to `replay_server.py`, which lists all the tools
  (renamed `<n>-<name>` so that names stay unique): one Inspector run for the whole set;
- `tools/node/ajv-strict.mjs`: every input and output schema compiled by Ajv as JavaScript
  clients do: its 2020-12 class in strict mode, and its default (draft-07) class, both with
  ajv-formats.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .node import REPO, node_tools
from .procs import run_bounded

__all__ = ["Portability", "check"]

REPLAY = Path(__file__).with_name("replay_server.py")
AJV = REPO / "tools" / "node" / "ajv-strict.mjs"


@dataclass
class Portability:
    tools: int
    compiled: int  # schemas Ajv compiled without complaint
    inspector: list[str] = field(default_factory=list)  # "label/tool: rule at path: issue"
    ajv: list[str] = field(default_factory=list)  # "label/tool schema (ajv): error"

    @property
    def problems(self) -> list[str]:
        return [*self.inspector, *self.ajv]


def check(listings: Mapping[str, Sequence[dict[str, Any]]], work: Path) -> Portability:
    work.mkdir(parents=True, exist_ok=True)
    listed = work / "listings.json"
    listed.write_text(json.dumps(listings, ensure_ascii=False), encoding="utf-8")
    owners: dict[str, tuple[str, str]] = {}
    combined: list[dict[str, Any]] = []
    for label, tools in listings.items():
        for tool in tools:
            name = f"{len(combined)}-{tool['name']}"
            owners[name] = (label, str(tool["name"]))
            combined.append({**tool, "name": name})
    replay = work / "replay.json"
    replay.write_text(json.dumps(combined, ensure_ascii=False), encoding="utf-8")
    report = Portability(tools=len(combined), compiled=0)
    report.inspector = _inspector(replay, owners, work)
    report.compiled, report.ajv = _ajv(listed)
    return report


def _inspector(replay: Path, owners: Mapping[str, tuple[str, str]], work: Path) -> list[str]:
    tools = node_tools()
    home = work / "inspector-home"
    home.mkdir(exist_ok=True)
    argv = [
        str(tools.inspector),
        "--cli",
        "--method",
        "tools/list",
        "--strict",
        "--format",
        "json",
        "--connect-timeout",
        "120000",
        "--",
        sys.executable,
        str(REPLAY),
        str(replay),
    ]
    done = run_bounded(argv, timeout=600, env=tools.env(home), cwd=home)
    if done.returncode not in (0, 6):  # 6: error-severity findings, reported below
        pytest.fail(
            f"the Inspector did not list the tools (exit {done.returncode}):\n{done.stderr}"
        )
    document = json.loads(done.stdout)
    listed = len(document.get("result", {}).get("tools", []))
    if listed != len(owners):
        pytest.fail(f"the Inspector listed {listed} tools of {len(owners)}")
    found = []
    for entry in document.get("schemaFindings", []):
        label, tool = owners[entry["toolName"]]
        for finding in entry["findings"]:
            where = f"{finding['schema']}.{finding['path']}".rstrip(".")
            issue = " ".join(finding["issue"].split())[:200]
            found.append(f"{label}/{tool}: {finding['rule']} at {where}: {issue}")
    return found


def _ajv(listed: Path) -> tuple[int, list[str]]:
    tools = node_tools()
    done = run_bounded([str(tools.node), str(AJV), str(listed)], timeout=600)
    if done.returncode != 0:
        pytest.fail(f"ajv-strict.mjs failed (exit {done.returncode}):\n{done.stderr}")
    document = json.loads(done.stdout)
    failures = [
        f"{f['label']}/{f['tool']} {f['schema']} ({f['ajv']}): {' '.join(f['error'].split())[:200]}"
        for f in document["failures"]
    ]
    return int(document["compiled"]), failures
