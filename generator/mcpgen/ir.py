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

from pydantic import AfterValidator, BaseModel, ConfigDict, computed_field, model_validator

__all__ = [
    "CREDENTIAL_ROLES",
    "LISTING_FORMAT",
    "RUNTIME_MODULES",
    "Annotations",
    "Body",
    "Call",
    "Credential",
    "CredentialRole",
    "Deploy",
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

# The layout version of a project's tools/listing.json (runtime.definitions.LISTING_FORMAT).
LISTING_FORMAT = 1

# The runtime's modules (generator/mcpgen/runtime/, copied verbatim into each project's
# `runtime/` package) and which projects need the optional ones.
# The auth modules are in every project: the mode is chosen at run time (MCP_AUTH_MODE).
RUNTIME_MODULES = (
    "__init__",
    "auth",
    "cli",
    "config",
    "credentials",
    "definitions",
    "encoding",
    "limits",
    "listing",
    "logs",
    "metrics",
    "observability",
    "proxy",
    "redaction",
    "replies",
    "server",
    "shaping",
    "state",
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
    # Scopes the spec's security requirements list, per scheme key (the upstream's names).
    spec_scopes: dict[str, tuple[str, ...]] = {}
    # Scopes a caller's token needs for this tool (this server's names, in the oauth modes):
    # from the spec's requirements, renamed or set by the mapping.
    scopes: tuple[str, ...] = ()
    sample: Sample | None = None  # None when no valid sample could be made
    kind: Literal["tool", "resource", "resource_template"] = "tool"
    uri: str | None = None  # resource URI or URI template (RFC 6570 level 1)
    fixed: dict[str, Any] = {}  # hidden arguments: handler parameter → value always sent
    keep_fields: tuple[str, ...] = ()  # reply fields kept (dotted paths); () keeps all
    tags: tuple[str, ...] = ()  # the operation's tags in the spec (search reads them)
    search_phrases: tuple[str, ...] = ()  # how users ask for it (mapping; search reads them)

    @property
    def listed(self) -> dict[str, Any]:
        """The tool as tools/list shows it: `ToolDef.wire()` of the generated module. (A
        plain property, not a computed field: no template reads it, so the data handed to
        copier does not carry every schema twice.)"""
        entry: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input_schema,
        }
        if self.output_schema is not None:
            entry["outputSchema"] = self.output_schema
        entry["annotations"] = {
            "readOnlyHint": self.annotations.read_only,
            "destructiveHint": self.annotations.destructive,
            "idempotentHint": self.annotations.idempotent,
            "openWorldHint": self.annotations.open_world,
        }
        return entry

    @property
    def listing(self) -> dict[str, Any]:
        """Its line of `tools/listing.json` (written by `render.render_tree`), which the
        runtime reads instead of importing the module (`runtime.definitions.Catalog`)."""
        entry: dict[str, Any] = {
            "name": self.name,
            "module": self.module,
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "tags": list(self.tags),
        }
        if self.uri is not None:
            entry["uri"] = self.uri
        if self.scopes:
            entry["scopes"] = list(self.scopes)
        if self.search_phrases:
            entry["phrases"] = list(self.search_phrases)
        entry["tool"] = self.listed
        return entry

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


# The role each credential variable of a security scheme plays, in the order the runtime lists
# them (`runtime.definitions.Scheme.variables`): api_key, the key; basic, user name then
# password; bearer, the token; oauth2 (OAuth 2 and OpenID Connect), a ready access token, this
# server's client ID and secret at the API's provider, then overrides of the token URL, the
# authorization URL and the scopes the spec gives.
CredentialRole = Literal[
    "api_key",
    "username",
    "password",
    "token",
    "client_id",
    "client_secret",
    "token_url_override",
    "authorize_url_override",
    "scopes_override",
]
CREDENTIAL_ROLES: dict[str, tuple[CredentialRole, ...]] = {
    "api_key": ("api_key",),
    "basic": ("username", "password"),
    "bearer": ("token",),
    "oauth2": (
        "token",
        "client_id",
        "client_secret",
        "token_url_override",
        "authorize_url_override",
        "scopes_override",
    ),
}


class Credential(_Frozen):
    env: str  # environment variable holding it
    description: str
    # False for an override of a value the spec gives (unset, the spec's value holds); True
    # when the way in it belongs to has nothing to fall back on without it
    required: bool


class SecurityScheme(_Frozen):
    """One security scheme of the upstream API. Each credential variable is a field named for
    its role (`CredentialRole`): exactly the roles of the scheme's kind are set, the others are
    None, so templates name the variable they mean (`scheme.client_id.env`)."""

    key: str  # the scheme's name in components.securitySchemes
    kind: Literal["api_key", "bearer", "basic", "oauth2"]
    location: Literal["header", "query", "cookie"] = "header"
    param: str = "Authorization"  # header/query/cookie name for api keys
    description: str
    api_key: Credential | None = None  # api_key: the key
    username: Credential | None = None  # basic
    password: Credential | None = None  # basic
    token: Credential | None = None  # bearer: the token; oauth2: a ready access token
    client_id: Credential | None = None  # oauth2: this server's client at the API's provider
    client_secret: Credential | None = None  # oauth2
    token_url_override: Credential | None = None  # oauth2: replaces token_url, code_token_url
    authorize_url_override: Credential | None = None  # oauth2: replaces authorize_url
    scopes_override: Credential | None = None  # oauth2: replaces scopes
    # oauth2 (OAuth 2 and OpenID Connect): endpoints from the spec's flows, "" when absent
    token_url: str = ""  # the clientCredentials flow's tokenUrl
    authorize_url: str = ""  # the authorizationCode flow's authorizationUrl
    code_token_url: str = ""  # the authorizationCode flow's tokenUrl
    discovery_url: str = ""  # openIdConnectUrl
    scopes: tuple[str, ...] = ()  # scopes requested upstream: those the tools need

    @model_validator(mode="after")
    def _roles_fit_the_kind(self) -> SecurityScheme:
        expected = CREDENTIAL_ROLES[self.kind]
        given = tuple(role for role, found in self._roles() if found is not None)
        if given != expected:
            raise ValueError(
                f"a {self.kind} security scheme has the credentials {', '.join(expected)}, "
                f"not {', '.join(given) or 'none'}"
            )
        return self

    def _roles(self) -> tuple[tuple[CredentialRole, Credential | None], ...]:
        return (
            ("api_key", self.api_key),
            ("username", self.username),
            ("password", self.password),
            ("token", self.token),
            ("client_id", self.client_id),
            ("client_secret", self.client_secret),
            ("token_url_override", self.token_url_override),
            ("authorize_url_override", self.authorize_url_override),
            ("scopes_override", self.scopes_override),
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def credentials(self) -> tuple[Credential, ...]:
        """Its credential variables, in the runtime's order for its kind (`CREDENTIAL_ROLES`)."""
        return tuple(found for _, found in self._roles() if found is not None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def proxy_credentials(self) -> tuple[Credential, ...]:
        """What oauth-proxy mode reads to sign users in at the API's provider: this server's
        client ID and secret, then the overrides of the spec's endpoints and scopes."""
        found = (
            self.client_id,
            self.client_secret,
            self.token_url_override,
            self.authorize_url_override,
            self.scopes_override,
        )
        return tuple(c for c in found if c is not None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def flows(self) -> str:
        """In words, for the README: `client credentials, authorization code`."""
        found = []
        if self.token_url:
            found.append("client credentials")
        if self.authorize_url:
            found.append("authorization code")
        if self.discovery_url:
            found.append("OpenID Connect")
        return ", ".join(found)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def variables(self) -> tuple[str, ...]:
        """The environment variables holding its credentials, in the runtime's order."""
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


# Where a deployed server listens and is probed: the image's PORT, fly.toml's internal_port,
# the Container's defaultPort and Lambda Web Adapter's port are all this one.
SERVER_PORT = 8080
HEALTH_PATH = "/healthz"
METRICS_PORT = 9091  # Fly scrapes /metrics here, on its private network
CONTAINER_CLASS = "McpContainer"  # the Durable Object class of the Containers Worker
# Variables the Containers Worker hands its container when they are set (vars or secrets),
# besides the API's credentials: the names of contract.md.
WORKER_FORWARDED = (
    "MCP_PUBLIC_URL",
    "MCP_ALLOWED_HOSTS",
    "MCP_ALLOWED_ORIGINS",
    "MCP_AUTH_MODE",
    "MCP_ALLOW_UNAUTHENTICATED",
    "MCP_BEARER_TOKENS",
    "MCP_AUTH_ISSUER",
    "MCP_AUTH_JWKS_URL",
    "MCP_STATE_URL",
    "MCP_STATE_KEY",
    "MCP_METRICS_TOKEN",
    "MCP_LOG_LEVEL",
    "UPSTREAM_BASE_URL",
    "UPSTREAM_TIMEOUT",
    "UPSTREAM_RETRIES",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_SERVICE_NAME",
)


class Deploy(_Frozen):
    """Which deploy targets get files (the mapping's `deploy` section)."""

    docker: bool = True
    fly: bool = True
    cloudflare: bool = True
    cloudflare_python: bool = True
    aws_lambda: bool = True

    @computed_field  # type: ignore[prop-decorator]
    @property
    def any_target(self) -> bool:
        return self.docker or self.cloudflare_python


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
    deploy: Deploy = Deploy()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def port(self) -> int:
        """The port a deployed server listens on."""
        return SERVER_PORT

    @computed_field  # type: ignore[prop-decorator]
    @property
    def health_path(self) -> str:
        return HEALTH_PATH

    @computed_field  # type: ignore[prop-decorator]
    @property
    def metrics_port(self) -> int:
        return METRICS_PORT

    @computed_field  # type: ignore[prop-decorator]
    @property
    def start_command(self) -> tuple[str, ...]:
        """The container's start command (exec form): the console script on all addresses;
        the port comes from PORT, which platforms set."""
        return (self.script, "--transport", "http", "--host", "0.0.0.0")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def app_name(self) -> str:
        """The name on Fly.io and Cloudflare: lower-case letters, digits and dashes, at most
        50 characters (room for the Python Worker's `-py`)."""
        return self.dist_name[:50].rstrip("-")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def python_worker_name(self) -> str:
        """The native Python Worker's name, beside the Containers Worker's."""
        return f"{self.app_name}-py"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fly_public_url(self) -> str:
        """The URL Fly.io gives the app: `https://<app>.fly.dev/mcp`."""
        return f"https://{self.app_name}.fly.dev/mcp"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def deployed_url_example(self) -> str:
        """A deployed server's URL for the README's client configs: Fly's when it has one."""
        return self.fly_public_url if self.deploy.fly else "https://mcp.example.com/mcp"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def container_class(self) -> str:
        return CONTAINER_CLASS

    @computed_field  # type: ignore[prop-decorator]
    @property
    def credential_variables(self) -> tuple[str, ...]:
        """Every variable holding an upstream credential, in scheme order, once each."""
        found = [c.env for scheme in self.security for c in scheme.credentials]
        return tuple(dict.fromkeys(found))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def worker_variables(self) -> tuple[str, ...]:
        """What the Containers Worker passes on to its container, when set."""
        return tuple(dict.fromkeys((*WORKER_FORWARDED, *self.credential_variables)))

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
    def scopes(self) -> tuple[str, ...]:
        """Every scope some tool needs: what the oauth modes' metadata lists."""
        return tuple(sorted({s for tool in self.tools for s in tool.scopes}))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def test_credentials(self) -> dict[str, str]:
        """Stand-in credentials for the project's own tests: every variable of each scheme,
        but only the ready token of OAuth schemes (nothing to exchange at a token URL)."""
        found = {}
        for scheme in self.security:
            chosen = scheme.credentials
            if scheme.kind == "oauth2" and scheme.token is not None:
                chosen = (scheme.token,)
            for credential in chosen:
                found[credential.env] = "test-" + credential.env.lower().replace("_", "-")
        return dict(sorted(found.items()))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def oauth_schemes(self) -> tuple[SecurityScheme, ...]:
        """The OAuth 2 / OpenID Connect schemes of the upstream API."""
        return tuple(s for s in self.security if s.kind == "oauth2")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def proxy_scheme(self) -> SecurityScheme | None:
        """The scheme oauth-proxy mode signs users in with (an authorization-code flow or
        OpenID Connect), as the runtime picks it; None when the API has none."""
        for scheme in self.oauth_schemes:
            if scheme.authorize_url or scheme.discovery_url:
                return scheme
        return None

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
            "CompactServer": ("compact", "resources", "search"),
        }[self.server_class]
        return tuple(sorted((*RUNTIME_MODULES, *extra)))
