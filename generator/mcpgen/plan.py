"""`mcpgen plan`: the tool table with token estimates and warnings, before anything is written.

Two sizes per tool, because clients do not pass everything they list to the model:

- *tokens*: what a model reads, the tool's name, description and input schema. Clients turn
  an MCP tool into the model API's function definition from these three: the OpenAI Agents
  SDK (`MCPUtil.to_function_tool`: name, description, or the title when there is none, and
  `inputSchema` as the parameters) and LangChain's MCP adapters (`StructuredTool` with name,
  description and `inputSchema`; annotations kept as metadata the model does not see).
  Title, output schema and annotations stay with the client (display, result validation,
  confirmation prompts). Claude Desktop, Claude Code and Cursor are closed source: that they
  do the same is the model APIs' tool format (name, description, input schema), not
  something read in their code.
- *wire bytes*: the tool's whole tools/list entry, what the server sends and the client
  parses.

Token counts are estimates: bytes of JSON divided by four, the usual rule of thumb for JSON in
current tokenizers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from .errors import Diagnostic, Report, diagnostic_json
from .ir import Project, Tool

__all__ = ["CLIENT_CAPS", "Plan", "PlanRow", "make_plan", "model_entry", "render_plan"]

# Tool counts beyond which well-known clients drop or refuse tools.
CLIENT_CAPS = (("Cursor", 40), ("Windsurf", 50), ("GitHub Copilot", 128))
LONG_DESCRIPTION = 1024
BYTES_PER_TOKEN = 4
# The three compact meta-tools as listed, and what models read of them; a test measures a
# generated server.
META_TOOLS_BYTES = 1509
META_TOOLS_MODEL_BYTES = 1189


@dataclass(frozen=True)
class PlanRow:
    name: str
    kind: str
    source: str
    tokens: int  # what a model reads: name, description, input schema
    wire_bytes: int  # the whole tools/list entry
    title: str = ""
    search_phrases: int = 0  # the mapping's `search` phrases (compact search reads them)


@dataclass(frozen=True)
class Plan:
    server: str
    exposure: str
    operations: int
    listed_tools: int
    rows: tuple[PlanRow, ...]
    total_tokens: int
    wire_bytes: int
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
            "wire_bytes": self.wire_bytes,
        }


def listed_entry(tool: Tool) -> dict[str, Any]:
    """The tool as tools/list shows it."""
    return tool.listed


def model_entry(tool: Tool) -> dict[str, Any]:
    """What a client passes to the model of a tool (see the module's docstring)."""
    return {"name": tool.name, "description": tool.description, "inputSchema": tool.input_schema}


def _bytes(data: Any) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


def _tokens(size: int) -> int:
    return max(1, round(size / BYTES_PER_TOKEN))


def make_plan(project: Project, report: Report, *, spec: str, mapping: str | None) -> Plan:
    """The plan of `project`; its warnings join `report` (`spec`, `mapping`: their file names,
    to locate them)."""
    rows = []
    for tool in project.tools:
        source = f"{tool.method} {tool.path}"
        if tool.operation_id:
            source += f" ({tool.operation_id})"
        model = _tokens(_bytes(model_entry(tool)))
        rows.append(
            PlanRow(
                tool.name,
                tool.kind,
                source,
                model,
                _bytes(listed_entry(tool)),
                tool.title,
                len(tool.search_phrases),
            )
        )
    tools = [r for r in rows if r.kind == "tool"]
    compact = project.exposure == "compact"
    listed = 3 if compact else len(tools)
    total = _tokens(META_TOOLS_MODEL_BYTES) if compact else sum(r.tokens for r in tools)
    wire = META_TOOLS_BYTES if compact else sum(r.wire_bytes for r in tools)
    _warn(project, listed, report, spec=spec, mapping=mapping)
    return Plan(
        server=project.server_name,
        exposure=project.exposure,
        operations=len(project.tools),
        listed_tools=listed,
        rows=tuple(rows),
        total_tokens=total,
        wire_bytes=wire,
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
    head = f"{'tool':<{width}}  {'kind':<{kind_width}}  {'tokens':>7}  {'wire bytes':>10}"
    lines = [f"{head}  operation"]
    lines += [
        f"{r.name:<{width}}  {r.kind:<{kind_width}}  {r.tokens:>7,}  {r.wire_bytes:>10,}  "
        f"{r.source}"
        for r in plan.rows
    ]
    summary = (
        f"{plan.operations} operations; {plan.listed_tools} tools listed "
        f"({plan.exposure} exposure), about {plan.total_tokens:,} tokens of tool definitions "
        f"for models to read (names, descriptions, input schemas) and {plan.wire_bytes:,} "
        "bytes of tools/list on the wire (titles, output schemas and annotations too)"
    )
    return "\n".join([*lines, "", summary])
