"""What a generated project declares: its values, its operations and its prompts.

`project.py` holds one `ProjectInfo`; each module under `tools/` one `ToolDef`; `prompts.py`
the `PromptDef`s. The runtime reads only these.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mcp.types import Tool as MCPTool
from mcp.types import ToolAnnotations

if TYPE_CHECKING:
    from .upstream import Reply, Upstream

__all__ = ["Exposure", "ProjectInfo", "PromptArg", "PromptDef", "Scheme", "ToolDef"]

Exposure = Literal["tools", "compact"]


@dataclass(frozen=True)
class Scheme:
    """One security scheme of the upstream API and the variables holding its credentials.

    `variables` lists them in a fixed order per kind: api_key and bearer, the key or token;
    basic, user name then password; oauth2 (OAuth 2 and OpenID Connect), a ready access token,
    the client ID, the client secret, then overrides of the token URL, the authorization URL
    and the scopes. The URLs come from the spec's flows.
    """

    kind: Literal["api_key", "bearer", "basic", "oauth2"]
    variables: tuple[str, ...]
    location: Literal["header", "query", "cookie"] = "header"
    param: str = "Authorization"
    token_url: str = ""  # the clientCredentials flow's tokenUrl ("" when there is no such flow)
    authorize_url: str = ""  # the authorizationCode flow's authorizationUrl
    code_token_url: str = ""  # the authorizationCode flow's tokenUrl
    discovery_url: str = ""  # openIdConnect: the OpenID Connect discovery document
    scopes: tuple[str, ...] = ()  # every scope the scheme's flows declare

    def variable(self, role: str) -> str:
        """The variable holding one credential of an oauth2 scheme (`token`, `client_id`,
        `client_secret`, `token_url`, `authorize_url`, `scopes`)."""
        return self.variables[_OAUTH2_ROLES.index(role)]


_OAUTH2_ROLES = ("token", "client_id", "client_secret", "token_url", "authorize_url", "scopes")


@dataclass(frozen=True)
class ProjectInfo:
    """The generated project's own values (its `project.py`)."""

    name: str  # the MCP server's name
    title: str
    version: str
    instructions: str
    description: str  # one line, for the command's help
    script: str  # the console script
    default_base_url: str  # "" when the spec names no usable server
    user_agent: str
    exposure: Exposure = "tools"
    schemes: Mapping[str, Scheme] = field(default_factory=dict)

    @property
    def credential_variables(self) -> tuple[str, ...]:
        """Every environment variable that holds an upstream credential."""
        return tuple(v for scheme in self.schemes.values() for v in scheme.variables)


@dataclass(frozen=True)
class ToolDef:
    """One operation: what clients see, and the handler that calls the upstream API."""

    name: str
    title: str
    description: str
    handler: Callable[..., Awaitable[Reply]]
    arguments: Mapping[str, str]  # argument name in the input schema → handler parameter
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    annotations: ToolAnnotations
    wrap_output: bool = False  # the reply is not an object: returned as {"result": reply}
    method: str = "GET"
    path: str = "/"
    kind: Literal["tool", "resource", "resource_template"] = "tool"
    uri: str | None = None  # the resource URI (template)
    fixed: Mapping[str, Any] = field(default_factory=dict)  # hidden arguments, always sent
    keep_fields: tuple[str, ...] = ()  # reply fields kept (dotted paths); () keeps all
    scopes: tuple[str, ...] = ()  # scopes a caller's token needs (oauth modes); () for none

    def listed(self) -> MCPTool:
        """The tool as tools/list shows it."""
        return MCPTool(
            name=self.name,
            title=self.title,
            description=self.description,
            input_schema=self.input_schema,
            output_schema=self.output_schema,
            annotations=self.annotations,
        )

    async def call(self, upstream: Upstream, arguments: Mapping[str, Any]) -> Reply:
        """Call the handler with checked arguments (renamed to its parameters) and the fixed
        values of hidden arguments."""
        kwargs = {self.arguments[k]: v for k, v in arguments.items() if k in self.arguments}
        return await self.handler(upstream, **{**kwargs, **self.fixed})


@dataclass(frozen=True)
class PromptArg:
    name: str
    description: str = ""
    required: bool = True


@dataclass(frozen=True)
class PromptDef:
    """A prompt declared in the mapping: `{argument}` fields in the template are replaced."""

    name: str
    template: str
    title: str | None = None
    description: str = ""
    arguments: tuple[PromptArg, ...] = ()
