"""`mcpgen plan`: the tool table with token estimates and warnings, before anything is written.

Token counts are estimates: the bytes of each tool's tools/list entry divided by four, the
usual rule of thumb for JSON in current tokenizers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from .errors import Diagnostic, Report, diagnostic_json
from .ir import Project, Tool

__all__ = ["CLIENT_CAPS", "Plan", "PlanRow", "make_plan", "render_plan"]

# Tool counts beyond which well-known clients drop or refuse tools.
CLIENT_CAPS = (("Cursor", 40), ("Windsurf", 50), ("GitHub Copilot", 128))
LONG_DESCRIPTION = 1024
BYTES_PER_TOKEN = 4
META_TOOLS_BYTES = (
    1483  # the three compact meta-tools as listed; a test measures a generated server
)


@dataclass(frozen=True)
class PlanRow:
    name: str
    kind: str
    source: str
    tokens: int


@dataclass(frozen=True)
class Plan:
    server: str
    exposure: str
    operations: int
    listed_tools: int
    rows: tuple[PlanRow, ...]
    total_tokens: int
    diagnostics: tuple[Diagnostic, ...]  # the translation's warnings, then the plan's

    def to_json(self) -> dict[str, Any]:
        return {
            "diagnostics": [diagnostic_json(d) for d in self.diagnostics],
            "exposure": self.exposure,
            "listed_tools": self.listed_tools,
            "operations": self.operations,
            "rows": [asdict(row) for row in self.rows],
            "server": self.server,
            "total_tokens": self.total_tokens,
        }


def listed_entry(tool: Tool) -> dict[str, Any]:
    """The tool as tools/list shows it."""
    return tool.listed


def _tokens(data: Any) -> int:
    size = len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
    return max(1, round(size / BYTES_PER_TOKEN))


def make_plan(project: Project, report: Report, *, spec: str, mapping: str | None) -> Plan:
    """The plan of `project`; its warnings join `report` (`spec`, `mapping`: their file names,
    to locate them)."""
    rows = []
    for tool in project.tools:
        source = f"{tool.method} {tool.path}"
        if tool.operation_id:
            source += f" ({tool.operation_id})"
        rows.append(PlanRow(tool.name, tool.kind, source, _tokens(listed_entry(tool))))
    tools = [r for r in rows if r.kind == "tool"]
    compact = project.exposure == "compact"
    listed = 3 if compact else len(tools)
    total = round(META_TOOLS_BYTES / BYTES_PER_TOKEN) if compact else sum(r.tokens for r in tools)
    _warn(project, listed, report, spec=spec, mapping=mapping)
    return Plan(
        server=project.server_name,
        exposure=project.exposure,
        operations=len(project.tools),
        listed_tools=listed,
        rows=tuple(rows),
        total_tokens=total,
        diagnostics=tuple(report.warnings),
    )


def _warn(project: Project, listed: int, report: Report, *, spec: str, mapping: str | None) -> None:
    for client, cap in CLIENT_CAPS:
        if listed > cap:
            report.warn(
                "client-cap",
                f"{listed} tools exceed {client}'s limit of {cap}; "
                "curate with rules or use `exposure: compact`",
                file=mapping or spec,
            )
    for tool in project.tools:
        if len(tool.description) > LONG_DESCRIPTION:
            report.warn(
                "long-description",
                f"{tool.name}: description has {len(tool.description)} characters; "
                "shorten it in the mapping",
                file=spec,
                pointer=tool.source_pointer,
            )


def render_plan(plan: Plan) -> str:
    width = max([len("tool"), *(len(r.name) for r in plan.rows)])
    kind_width = max([len("kind"), *(len(r.kind) for r in plan.rows)])
    lines = [f"{'tool':<{width}}  {'kind':<{kind_width}}  {'tokens':>7}  operation"]
    lines += [
        f"{r.name:<{width}}  {r.kind:<{kind_width}}  {r.tokens:>7,}  {r.source}" for r in plan.rows
    ]
    summary = (
        f"{plan.operations} operations; {plan.listed_tools} tools listed "
        f"({plan.exposure} exposure), about {plan.total_tokens:,} tokens of tool definitions"
    )
    return "\n".join([*lines, "", summary])
