"""The intermediate representation: everything templates need, final and computed.

Templates only read this model (dumped to plain data, computed fields included); every name,
schema, ordering and grouping is decided here or while translating the spec. Text is kept as
it is: templates make it safe for the language it lands in with the filters of `escape.py`.
Names that land in code as identifiers are checked to be identifiers.
"""

from __future__ import annotations

import ast
import functools
import keyword
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, computed_field

__all__ = [
    "RUNTIME_MODULES",
    "Annotations",
    "Body",
    "Call",
    "Credential",
    "Identifier",
    "JsonSchema",
    "Param",
    "Project",
    "Prompt",
    "PromptArgument",
    "PyType",
    "Sample",
    "SecurityScheme",
    "Tool",
]

# A JSON Schema 2020-12 document or fragment, produced by `translate.schemas` and already
# checked against the meta-schema; plain JSON data so it dumps unchanged into the project.
JsonSchema = dict[str, Any]

Location = Literal["path", "query", "header", "cookie", "body"]
BodyEncoding = Literal["json", "form", "multipart"]


def _identifier(name: str) -> str:
    if not name.isidentifier() or keyword.iskeyword(name) or not name.isascii():
        raise ValueError(f"{name!r} is not a Python identifier")
    return name


@functools.cache
def _type_expression(text: str) -> str:
    try:
        ast.parse(text, mode="eval")
    except SyntaxError:
        raise ValueError(f"{text!r} is not a Python type expression") from None
    return text


Identifier = Annotated[str, AfterValidator(_identifier)]  # lands in code as a name
PyType = Annotated[str, AfterValidator(_type_expression)]  # lands in code as an annotation

# The runtime's modules (generator/mcpgen/runtime/, copied verbatim into each project's
# `runtime/` package) and which projects need the optional ones.
RUNTIME_MODULES = (
    "__init__",
    "cli",
    "config",
    "definitions",
    "encoding",
    "logs",
    "server",
    "shaping",
    "upstream",
)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Param(_Frozen):
    """One tool argument and where it goes in the upstream request."""

    arg: str  # the argument's name in the tool's input schema
    py_name: Identifier  # the Python parameter name in the generated handler
    py_type: PyType  # its Python type expression (from `typing`: Any, Literal)
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
    py_name: Identifier | None = None
    py_type: PyType = "Any"
    required: bool = True

    @computed_field  # type: ignore[prop-decorator]
    @property
    def keyword(self) -> Literal["json_body", "form"]:
        """The `Upstream.request` keyword the body goes in (multipart: `form` plus `files`)."""
        return "json_body" if self.encoding == "json" else "form"


class Annotations(_Frozen):
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool = True

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> str:
        """In words, for the README's tool table: `read-only, idempotent`."""
        words = ["read-only" if self.read_only else "writes"]
        if self.destructive:
            words.append("destructive")
        if self.idempotent:
            words.append("idempotent")
        return ", ".join(words)


class Call(_Frozen):
    """A tool's parameters grouped as the handler passes them to `Upstream.request`."""

    path: tuple[Param, ...]
    query: tuple[Param, ...]
    header: tuple[Param, ...]
    cookie: tuple[Param, ...]
    fields: tuple[Param, ...]  # body properties sent one by one (a flattened body)
    files: tuple[Param, ...]  # multipart file parts


class Sample(_Frozen):
    """A valid call of a tool and a valid upstream reply, for the generated project's tests."""

    arguments: dict[str, Any]
    path: str  # the request path the upstream must see (relative to the base URL)
    status: int
    reply: Any  # the JSON the stand-in upstream answers with (None: an empty body)
    uri: str | None = None  # for resources: the URI to read


class Tool(_Frozen):
    name: str  # final MCP tool name, `^[a-zA-Z0-9_-]{1,64}$`
    module: Identifier  # Python module name of its file under tools/
    function: Identifier  # the handler's Python name
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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def endpoint(self) -> str:
        """`GET /books/{bookId}`."""
        return f"{self.method} {self.path}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def arguments(self) -> dict[str, str]:
        """Argument name in the input schema → the handler's parameter."""
        found = {p.arg: p.py_name for p in self.params}
        body = self.body
        if body is not None and not body.flattened and body.arg and body.py_name:
            found[body.arg] = body.py_name
        return found

    @computed_field  # type: ignore[prop-decorator]
    @property
    def call(self) -> Call:
        grouped: dict[str, list[Param]] = {
            "path": [],
            "query": [],
            "header": [],
            "cookie": [],
            "fields": [],
            "files": [],
        }
        for p in self.params:  # one pass: tools are dumped several times per render
            key = p.location if p.location != "body" else "files" if p.file else "fields"
            grouped[key].append(p)
        return Call(**{key: tuple(params) for key, params in grouped.items()})


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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def variables(self) -> tuple[str, ...]:
        """The environment variables holding its credentials."""
        return tuple(c.env for c in self.credentials)


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
    package: Identifier  # the Python package, e.g. bookshop_mcp
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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def user_agent(self) -> str:
        return f"{self.dist_name}/{self.version} (mcpgen {self.mcpgen_version})"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def operations(self) -> tuple[Tool, ...]:
        """The operations exposed as tools (not resources)."""
        return tuple(t for t in self.tools if t.kind == "tool")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def resources(self) -> tuple[Tool, ...]:
        """The operations exposed as resources and resource templates."""
        return tuple(t for t in self.tools if t.kind != "tool")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sampled_operations(self) -> tuple[Tool, ...]:
        """Tools with a sample call, for the project's own tests."""
        return tuple(t for t in self.operations if t.sample is not None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sampled_resources(self) -> tuple[Tool, ...]:
        """Resources and templates with a sample read, for the project's own tests."""
        return tuple(t for t in self.resources if t.sample is not None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def server_class(self) -> Literal["ApiServer", "ResourceServer", "CompactServer"]:
        """The runtime's server class this project needs."""
        if self.exposure == "compact":
            return "CompactServer"
        return "ResourceServer" if self.resources or self.prompts else "ApiServer"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def runtime_modules(self) -> tuple[str, ...]:
        """The runtime modules this project uses, copied into its `runtime/` package."""
        extra = {
            "ApiServer": (),
            "ResourceServer": ("resources",),
            "CompactServer": ("compact", "resources"),
        }[self.server_class]
        return tuple(sorted((*RUNTIME_MODULES, *extra)))
