"""Operations exposed as MCP resources (fixed URI) or resource templates (URI with variables)."""

from __future__ import annotations

import re
from urllib.parse import quote

from ..errors import McpgenError, escape_pointer
from ..ir import Tool
from ..load import Source
from .select import Selected

__all__ = ["resource_uri", "uri_variables"]

_VARIABLE = re.compile(r"\{([^{}]+)\}")


def uri_variables(uri: str) -> list[str]:
    return _VARIABLE.findall(uri)


def _where(selected: Selected) -> str:
    if selected.override_key is not None and selected.override.uri is not None:
        return "/operations/" + escape_pointer(selected.override_key) + "/uri"
    if selected.rule is not None:
        return f"/rules/{selected.rule}"
    return "/default"


def _error(selected: Selected, source: Source | None, message: str) -> McpgenError:
    op = selected.op
    text = f"{op.method.upper()} {op.path}: {message}"
    if source is None:
        return McpgenError.single("mapping", text)
    return source.error("mapping", text, _where(selected))


def resource_uri(tool: Tool, selected: Selected, server: str, source: Source | None) -> Tool:
    """Check that the operation can be read as a resource and give it its URI (template)."""
    kind = selected.kind
    if tool.method != "GET":
        raise _error(selected, source, f"only GET operations can be a {kind}")
    path_args = [p.arg for p in tool.params if p.location == "path"]
    required = set(tool.input_schema.get("required", [])) - set(path_args)
    if required:
        raise _error(
            selected,
            source,
            f"a {kind} cannot need arguments other than path parameters "
            f"({', '.join(sorted(required))}); hide them with a fixed value or make it a tool",
        )
    if kind == "resource" and path_args:
        raise _error(selected, source, "it has path parameters: make it a resource_template")
    if kind == "resource_template" and not path_args:
        raise _error(selected, source, "it has no path parameters: make it a resource")
    uri = tool.uri or _default_uri(tool, server)
    if sorted(uri_variables(uri)) != sorted(path_args):
        raise _error(
            selected,
            source,
            f"the URI '{uri}' must use exactly the variables {{{'}, {'.join(path_args)}}}",
        )
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", uri):
        raise _error(selected, source, f"the URI '{uri}' needs a scheme, e.g. {server}://...")
    sample = tool.sample
    if sample is not None:
        expanded = uri
        for arg in path_args:
            expanded = expanded.replace("{" + arg + "}", quote(str(sample.arguments[arg]), safe=""))
        sample = sample.model_copy(update={"uri": expanded})
    return tool.model_copy(update={"kind": kind, "uri": uri, "sample": sample})


def _default_uri(tool: Tool, server: str) -> str:
    scheme = re.sub(r"[^a-z0-9+.-]", "-", server.lower()).strip("-") or "api"
    if not scheme[0].isalpha():
        scheme = "api-" + scheme
    path = tool.path
    for param in tool.params:
        if param.location == "path":
            path = path.replace("{" + param.wire + "}", "{" + param.arg + "}")
    return f"{scheme}://{path.lstrip('/')}"
