"""Resources, resource templates and prompts, for projects whose mapping declares them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from mcp import MCPError
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import INVALID_PARAMS, GetPromptResult, PromptMessage, TextContent
from mcp.types import Prompt as MCPPrompt
from mcp.types import PromptArgument as MCPPromptArgument
from mcp.types import Resource as MCPResource
from mcp.types import ResourceTemplate as MCPResourceTemplate

from .config import Settings
from .definitions import Catalog, ProjectInfo, PromptDef, ToolDef
from .server import ApiServer, Hooks, json_text

__all__ = ["ResourceServer"]

_TEMPLATE_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*)\}")


class ResourceServer(ApiServer):
    """Adds the operations mapped to resources and resource templates, and the prompts."""

    def __init__(
        self,
        project: ProjectInfo,
        settings: Settings,
        operations: Sequence[ToolDef] | Catalog,
        prompts: Sequence[PromptDef] = (),
        *,
        hooks: Hooks | None = None,
    ) -> None:
        super().__init__(project, settings, operations, hooks=hooks)
        self.prompts = {prompt.name: prompt for prompt in prompts}
        self._templates = [
            (_uri_pattern(op.uri or ""), op)
            for op in self.resources.values()
            if op.kind == "resource_template"
        ]

    async def list_resources(self) -> list[MCPResource]:
        return [
            MCPResource(
                uri=op.uri or "",
                name=op.name,
                title=op.title,
                description=op.description,
                mime_type=_mime(op),
            )
            for op in self.resources.values()
            if op.kind == "resource"
        ]

    async def list_resource_templates(self) -> list[MCPResourceTemplate]:
        return [
            MCPResourceTemplate(
                uri_template=op.uri or "",
                name=op.name,
                title=op.title,
                description=op.description,
                mime_type=_mime(op),
            )
            for _, op in self._templates
        ]

    def resource_for(self, uri: str) -> tuple[ToolDef, dict[str, Any]] | None:
        """The operation that serves `uri`, with the arguments its template captures."""
        for op in self.resources.values():
            if op.kind == "resource" and op.uri == uri:
                return op, {}
        for pattern, op in self._templates:
            found = pattern.match(uri)
            if found:
                return op, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def required_scopes(self, method: str, params: Mapping[str, Any]) -> frozenset[str]:
        """resources/read needs the scopes of the operation behind the resource."""
        if method == "resources/read":
            found = self.resource_for(str(params.get("uri", "")))
            return frozenset(found[0].scopes) if found else frozenset()
        return super().required_scopes(method, params)

    async def read_resource(
        self, uri: Any, context: Context[Any, Any] | None = None
    ) -> list[ReadResourceContents]:
        wanted = str(uri)
        found = self.resource_for(wanted)
        if found is None:
            raise ResourceNotFoundError(f"Unknown resource: {wanted}")
        return await self._read(found[0], found[1], context)

    async def _read(
        self, op: ToolDef, arguments: dict[str, Any], context: Context[Any, Any] | None
    ) -> list[ReadResourceContents]:
        result = await self.invoke(op, arguments, context)
        text = "".join(c.text for c in result.content if isinstance(c, TextContent))
        if result.is_error:
            raise ResourceError(text)
        if result.structured_content is not None:
            data = result.structured_content
            text = json_text(data["result"] if op.wrap_output else data)
        return [ReadResourceContents(content=text, mime_type=_mime(op))]

    async def list_prompts(self) -> list[MCPPrompt]:
        return [
            MCPPrompt(
                name=p.name,
                title=p.title,
                description=p.description,
                arguments=[
                    MCPPromptArgument(name=a.name, description=a.description, required=a.required)
                    for a in p.arguments
                ],
            )
            for p in self.prompts.values()
        ]

    async def get_prompt(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        context: Context[Any, Any] | None = None,
    ) -> GetPromptResult:
        prompt = self.prompts.get(name)
        if prompt is None:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt: {name}")
        given = {k: str(v) for k, v in (arguments or {}).items()}
        missing = [a.name for a in prompt.arguments if a.required and a.name not in given]
        if missing:
            raise MCPError(code=INVALID_PARAMS, message=f"Missing prompt arguments: {missing}")
        values = {a.name: given.get(a.name, "") for a in prompt.arguments}
        text = _TEMPLATE_FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), prompt.template)
        message = PromptMessage(role="user", content=TextContent(type="text", text=text))
        return GetPromptResult(description=prompt.description, messages=[message])


def _uri_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{([^{}]+)\}", template)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/?#]+)" for i, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


def _mime(op: ToolDef) -> str:
    return "application/json" if op.output_schema is not None else "text/plain"
