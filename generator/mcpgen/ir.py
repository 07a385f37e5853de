"""The intermediate representation: everything templates need, final and computed.

Templates only read this model (dumped to plain data); every name, schema, ordering and
literal is decided while building it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "Annotations",
    "Body",
    "Credential",
    "JsonSchema",
    "Param",
    "Project",
    "Prompt",
    "PromptArgument",
    "Sample",
    "SecurityScheme",
    "Tool",
]

# A JSON Schema 2020-12 document or fragment, produced by `translate.schemas` and already
# checked against the meta-schema; plain JSON data so it dumps unchanged into the project.
JsonSchema = dict[str, Any]

Location = Literal["path", "query", "header", "cookie", "body"]
BodyEncoding = Literal["json", "form", "multipart"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Param(_Frozen):
    """One tool argument and where it goes in the upstream request."""

    arg: str  # the argument's name in the tool's input schema
    py_name: str  # the Python parameter name in the generated handler
    py_type: str  # its Python type expression (from `typing`: Any, Literal)
    wire: str  # the name on the wire (query key, header name, body property)
    location: Location
    required: bool
    style: str = "form"  # query serialisation (OpenAPI style)
    explode: bool = True
    file: bool = False  # a multipart file part: base64 in the arguments, bytes on the wire


class Body(_Frozen):
    """The request body: flattened into top-level arguments, or passed whole as one."""

    media_type: str
    encoding: BodyEncoding
    flattened: bool
    arg: str | None = None  # the single argument when not flattened
    py_name: str | None = None
    py_type: str = "Any"
    required: bool = True


class Annotations(_Frozen):
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool = True


class Sample(_Frozen):
    """A valid call of a tool and a valid upstream reply, for the generated project's tests."""

    arguments: dict[str, Any]
    path: str  # the request path the upstream must see (relative to the base URL)
    status: int
    reply: Any  # the JSON the stand-in upstream answers with (None: an empty body)
    uri: str | None = None  # for resources: the URI to read


class Tool(_Frozen):
    name: str  # final MCP tool name, `^[a-zA-Z0-9_-]{1,64}$`
    module: str  # Python module name of its file under tools/
    function: str  # the handler's Python name
    title: str
    description: str
    method: str  # upper-case HTTP method
    path: str  # the path template, as in the spec
    operation_id: str | None
    source_pointer: str  # e.g. /paths/~1books/get
    params: tuple[Param, ...]
    body: Body | None
    input_schema: JsonSchema
    output_schema: JsonSchema | None
    output_wrapped: bool  # the reply is returned under {"result": ...}
    annotations: Annotations
    security: tuple[tuple[str, ...], ...]  # alternatives; each lists scheme keys, all needed
    sample: Sample | None = None  # None when no valid sample could be made
    kind: Literal["tool", "resource", "resource_template"] = "tool"
    uri: str | None = None  # resource URI or URI template (RFC 6570 level 1)
    fixed: dict[str, Any] = {}  # hidden arguments: handler parameter → value always sent
    keep_fields: tuple[str, ...] = ()  # reply fields kept (dotted paths); () keeps all


class Credential(_Frozen):
    env: str  # environment variable holding it
    description: str


class SecurityScheme(_Frozen):
    key: str  # the scheme's name in components.securitySchemes
    kind: Literal["api_key", "bearer", "basic"]
    location: Literal["header", "query", "cookie"] = "header"
    param: str = "Authorization"  # header/query/cookie name for api keys
    credentials: tuple[Credential, ...]
    description: str


class PromptArgument(_Frozen):
    name: str
    description: str
    required: bool


class Prompt(_Frozen):
    name: str
    title: str | None
    description: str
    arguments: tuple[PromptArgument, ...]
    template: str


class Project(_Frozen):
    """The whole generated project."""

    dist_name: str  # the distribution name in pyproject.toml, e.g. bookshop-mcp
    package: str  # the Python package, e.g. bookshop_mcp
    script: str  # the console script, e.g. bookshop-mcp
    server_name: str  # the MCP server's name
    title: str
    version: str  # the server's version, as the spec or mapping gives it
    package_version: str  # the same when it is a PEP 440 version, else 0.1.0
    description: str
    instructions: str
    api_title: str
    api_version: str
    base_url: str  # default upstream base URL ("" when the spec gives none usable)
    spec_file: str  # the spec's file name, for provenance lines
    mcpgen_version: str
    tools: tuple[Tool, ...]
    security: tuple[SecurityScheme, ...]
    exposure: Literal["tools", "compact"] = "tools"
    prompts: tuple[Prompt, ...] = ()
