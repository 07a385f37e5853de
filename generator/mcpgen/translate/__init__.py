"""Stage 3: spec (+ mapping) → the IR. Selection, naming, arguments, schemas, security."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from .. import __version__
from ..errors import McpgenError, Report
from ..ir import Deploy, Project, Prompt, PromptArgument, SecurityScheme, Tool
from ..load import Source
from ..mapping import Mapping
from ..naming import NameAllocator, project_names, snake, tool_name_ok
from ..spec import Spec
from .operations import ToolContext, iter_operations, make_tool
from .overrides import apply_override
from .resources import resource_uri
from .schemas import SchemaConverter
from .security import security_schemes
from .select import Selected, select

__all__ = ["TranslateOptions", "default_name", "translate_project"]


@dataclass(frozen=True)
class TranslateOptions:
    name: str | None = None  # the server's name; the project is `<name>-mcp`
    mapping: Mapping = field(default_factory=Mapping)
    mapping_source: Source | None = None  # where the mapping came from, for located errors


def default_name(document: dict[str, Any]) -> str:
    title = str((document.get("info") or {}).get("title") or "api")
    words = [w for w in snake(title).split("_") if w]
    while len(words) > 1 and words[-1] in ("api", "rest", "openapi", "service", "v1", "v2", "v3"):
        words.pop()
    return "-".join(words) or "api"


def _base_url(document: dict[str, Any], report: Report, file: str, given: str | None) -> str:
    if given:
        return given.rstrip("/")
    servers = document.get("servers") or []
    if not servers or not isinstance(servers[0], dict):
        report.warn(
            "no-server-url",
            "the spec names no server: set UPSTREAM_BASE_URL",
            file=file,
            pointer="/servers" if "servers" in document else None,
        )
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


def translate_project(spec: Spec, options: TranslateOptions, report: Report) -> Project:
    document = spec.data
    file = spec.source.display
    report.locate(spec.source)
    if options.mapping_source is not None:
        report.locate(options.mapping_source)
    info = document.get("info") or {}
    settings = options.mapping.server
    name, dist, package = project_names(
        options.name or settings.name or default_name(document), file
    )
    converter = SchemaConverter(document, version=spec.version, file=file, report=report)
    chosen = select(iter_operations(document), options.mapping, options.mapping_source, report)
    tools = _tools(
        chosen,
        document,
        converter,
        report,
        file,
        name,
        options.mapping_source,
        dict(options.mapping.scopes),
    )
    schemes = _upstream_scopes(security_schemes(document, report, file), tools)
    api_title = str(info.get("title") or name)
    description = str(info.get("summary") or info.get("description") or "").strip()
    return Project(
        dist_name=dist,
        package=package,
        script=dist,
        server_name=name,
        title=settings.title or f"{api_title} (MCP)",
        version=(version := settings.version or str(info.get("version") or "0.1.0")),
        package_version=_package_version(version, report, _version_place(options, file)),
        description=description.splitlines()[0] if description else f"MCP server for {api_title}",
        instructions=settings.instructions or _instructions(api_title, description),
        api_title=api_title,
        api_version=str(info.get("version") or ""),
        base_url=_base_url(document, report, file, settings.base_url),
        spec_file=spec.source.path.name,
        mcpgen_version=__version__,
        tools=tuple(tools),
        security=schemes,
        exposure=options.mapping.exposure,
        prompts=tuple(_prompts(options.mapping)),
        deploy=Deploy(**options.mapping.deploy.model_dump()),
    )


def _upstream_scopes(
    schemes: list[SecurityScheme], tools: list[Tool]
) -> tuple[SecurityScheme, ...]:
    """OAuth schemes request upstream the scopes the generated tools need of them."""
    done = []
    for scheme in schemes:
        if scheme.kind != "oauth2":
            done.append(scheme)
            continue
        needed = {s for tool in tools for s in tool.spec_scopes.get(scheme.key, ())}
        done.append(scheme.model_copy(update={"scopes": tuple(sorted(needed))}))
    return tuple(done)


def _version_place(options: TranslateOptions, spec_file: str) -> tuple[str | None, str]:
    """Where the server's version comes from: the mapping's `server.version`, or the spec."""
    if options.mapping.server.version:
        source = options.mapping_source
        return (source.display if source else None), "/server/version"
    return spec_file, "/info/version"


def _package_version(version: str, report: Report, place: tuple[str | None, str]) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        file, pointer = place
        report.warn(
            "package-version",
            f"the API version '{version}' is not a Python package version (PEP 440); "
            "the project is versioned 0.1.0 and the server still reports the API's version",
            file=file,
            pointer=pointer,
        )
        return "0.1.0"


def _instructions(api_title: str, description: str) -> str:
    text = f"Tools for the {api_title}. Each tool calls one API operation and returns its reply."
    if description:
        text += "\n\n" + description
    return text


def _prompts(mapping: Mapping) -> list[Prompt]:
    return [
        Prompt(
            name=p.name,
            title=p.title,
            description=p.description,
            arguments=tuple(
                PromptArgument(name=a.name, description=a.description, required=a.required)
                for a in p.arguments
            ),
            template=p.template,
        )
        for p in mapping.prompts
    ]


def _tools(
    chosen: list[Selected],
    document: dict[str, Any],
    converter: SchemaConverter,
    report: Report,
    file: str,
    server: str,
    mapping_source: Source | None,
    options_scopes: dict[str, str] | None = None,
) -> list[Tool]:
    names = NameAllocator("tool", report, file)
    wanted = [s.override.name for s in chosen if s.override.name]
    duplicates = sorted({n for n in wanted if wanted.count(n) > 1})
    if duplicates:
        raise McpgenError.single(
            "mapping",
            f"two operations are renamed to the same tool name: {duplicates}",
            file=mapping_source.display if mapping_source else None,
            pointer="/operations",
        )
    names.reserve(wanted)
    ctx = ToolContext(document, converter, report, file)
    tools: list[Tool] = []
    for selected in chosen:
        op = selected.op
        name = selected.override.name or names.allocate(op.wanted_name(), where=op.pointer)
        if not tool_name_ok(name):
            raise McpgenError.single(
                "tool-name",
                f"no valid tool name for this operation ('{name}')",
                file=file,
                pointer=op.pointer,
            )
        built = make_tool(op, name, ctx)
        if options_scopes:
            renamed = {options_scopes.get(s, s) for s in built.scopes}
            built = built.model_copy(update={"scopes": tuple(sorted(renamed))})
        built = apply_override(built, selected.override, selected.override_key, mapping_source)
        if selected.kind != "tool":
            built = resource_uri(built, selected, server, mapping_source)
        tools.append(built)
    return tools
