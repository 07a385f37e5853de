"""Stage 3: spec (+ mapping) → the IR. Selection, naming, arguments, schemas, security."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..errors import McpgenError, Report
from ..ir import Project, Tool
from ..spec import Spec
from .naming import NameAllocator, py_identifier, snake, tool_name_ok
from .operations import build_tool, iter_operations
from .schemas import SchemaConverter
from .security import security_schemes

__all__ = ["BuildOptions", "build_project", "default_name"]


@dataclass(frozen=True)
class BuildOptions:
    name: str | None = None  # the server's name; the project is `<name>-mcp`


def default_name(document: dict[str, Any]) -> str:
    title = str((document.get("info") or {}).get("title") or "api")
    words = [w for w in snake(title).split("_") if w]
    while len(words) > 1 and words[-1] in ("api", "rest", "openapi", "service", "v1", "v2", "v3"):
        words.pop()
    return "-".join(words) or "api"


def _names(name: str, file: str) -> tuple[str, str, str]:
    cleaned = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not cleaned:
        raise McpgenError.single("bad-name", f"'{name}' gives no usable project name", file=file)
    dist = cleaned if cleaned.endswith("mcp") else f"{cleaned}-mcp"
    package = py_identifier(dist, fallback="server")
    return cleaned, dist, package


def _base_url(document: dict[str, Any], report: Report, file: str) -> str:
    servers = document.get("servers") or []
    if not servers or not isinstance(servers[0], dict):
        report.warn("no-server-url", "the spec names no server: set UPSTREAM_BASE_URL", file=file)
        return ""
    url = str(servers[0].get("url") or "")
    for var, spec in (servers[0].get("variables") or {}).items():
        url = url.replace("{" + var + "}", str((spec or {}).get("default", "")))
    if not re.match(r"^https?://", url):
        report.warn(
            "relative-server-url",
            f"the first server URL '{url}' is not absolute: set UPSTREAM_BASE_URL",
            file=file,
            pointer="/servers/0/url",
        )
        return ""
    return url.rstrip("/")


def build_project(spec: Spec, options: BuildOptions, report: Report) -> Project:
    document = spec.data
    file = spec.source.display
    info = document.get("info") or {}
    name, dist, package = _names(options.name or default_name(document), file)
    converter = SchemaConverter(document, version=spec.version, file=file, report=report)
    tools = _tools(document, converter, report, file)
    api_title = str(info.get("title") or name)
    description = str(info.get("summary") or info.get("description") or "").strip()
    return Project(
        dist_name=dist,
        package=package,
        script=dist,
        server_name=name,
        title=f"{api_title} (MCP)",
        version=str(info.get("version") or "0.1.0"),
        description=description.splitlines()[0] if description else f"MCP server for {api_title}",
        instructions=_instructions(api_title, description),
        api_title=api_title,
        api_version=str(info.get("version") or ""),
        base_url=_base_url(document, report, file),
        spec_file=spec.source.path.name,
        mcpgen_version=__version__,
        tools=tuple(tools),
        security=tuple(security_schemes(document, report, file)),
        warnings=tuple(d.render() for d in report.warnings),
    )


def _instructions(api_title: str, description: str) -> str:
    text = f"Tools for the {api_title}. Each tool calls one API operation and returns its reply."
    if description:
        text += "\n\n" + description
    return text


def _tools(
    document: dict[str, Any], converter: SchemaConverter, report: Report, file: str
) -> list[Tool]:
    names = NameAllocator("tool", report)
    tools: list[Tool] = []
    for op in iter_operations(document):
        name = names.allocate(op.wanted_name(), where=op.pointer)
        if not tool_name_ok(name):
            raise McpgenError.single(
                "tool-name", f"no valid tool name for this operation ('{name}')", file=file,
                pointer=op.pointer,
            )
        tools.append(build_tool(op, name, document, converter, report, file))
    return tools
