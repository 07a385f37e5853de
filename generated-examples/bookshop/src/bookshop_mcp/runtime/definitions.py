"""What a generated project declares: its values, its operations and its prompts.

`project.py` holds one `ProjectInfo`; each module under `tools/` one `ToolDef`, and
`tools/listing.json` every operation as tools/list shows it (a `Catalog`), so that a server
starts without importing a module per operation; `prompts.py` the `PromptDef`s. The runtime
reads only these.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from mcp.types import Tool as MCPTool
from mcp.types import ToolAnnotations

if TYPE_CHECKING:
    from .upstream import Reply, Upstream

__all__ = [
    "LISTING_FORMAT",
    "Catalog",
    "Exposure",
    "Kind",
    "Listed",
    "ProjectInfo",
    "PromptArg",
    "PromptDef",
    "Scheme",
    "ToolDef",
    "source_digest",
    "tool_bytes",
]

Exposure = Literal["tools", "compact"]
Kind = Literal["tool", "resource", "resource_template"]
LISTING_FORMAT = 1  # the version of tools/listing.json's layout


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
    kind: Kind = "tool"
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

    def wire(self) -> dict[str, Any]:
        """The tool as JSON in a tools/list answer (what `tools/listing.json` holds)."""
        return self.listed().model_dump(by_alias=True, mode="json", exclude_none=True)

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


def tool_bytes(tool: Mapping[str, Any]) -> bytes:
    """A tool's JSON as tools/list sends it: compact, non-ASCII kept except the line and
    paragraph separators (which some SSE and JavaScript readers take for line ends) and what
    cannot be UTF-8 encoded."""
    text = json.dumps(tool, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate from the spec's text
        return json.dumps(tool, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Listed:
    """One operation as the runtime knows it before its module is imported."""

    name: str
    module: str  # the module under tools/ that defines it ("" when given as a ToolDef)
    kind: Kind
    method: str
    path: str
    tags: tuple[str, ...]
    raw: bytes  # the tool's JSON as tools/list sends it
    uri: str | None = None
    scopes: tuple[str, ...] = ()  # what a caller's token needs (oauth modes)
    phrases: tuple[str, ...] = ()  # how users ask for it (the mapping's `search`)

    @property
    def tool(self) -> dict[str, Any]:
        """The tool as tools/list shows it, decoded (each time: only the search index reads
        it, once, and keeping every decoded tool would cost megabytes for a large API)."""
        found = json.loads(self.raw)
        if not isinstance(found, dict) or found.get("name") != self.name:
            raise RuntimeError(f"the listed tool {self.name!r} is not named so: regenerate")
        return cast(dict[str, Any], found)

    @classmethod
    def of(cls, tool: ToolDef, module: str = "", tags: tuple[str, ...] = ()) -> Listed:
        raw = tool_bytes(tool.wire())
        return cls(
            tool.name, module, tool.kind, tool.method, tool.path, tags, raw, tool.uri, tool.scopes
        )


class Catalog:
    """Every generated operation, listed without importing the modules that define them.

    `Catalog.read(package)` reads `package/listing.json`, written by mcpgen with the project;
    `load(name)` imports the operation's module the first time it is needed (its first call).
    The listing records a digest of each module's source: a module edited since (its
    source has another digest, or cannot be read) is imported at once and listed as it now
    is. `Catalog.of(tools)` holds `ToolDef`s that are already built.
    """

    def __init__(self, entries: Iterable[Listed], package: str = "") -> None:
        self.entries: tuple[Listed, ...] = tuple(entries)
        self.package = package
        self._by_name: dict[str, Listed] = {}
        for entry in self.entries:
            if entry.name in self._by_name:
                raise ValueError(f"two tools are named {entry.name!r}")
            self._by_name[entry.name] = entry
        self._loaded: dict[str, ToolDef] = {}

    @classmethod
    def of(cls, tools: Iterable[ToolDef]) -> Catalog:
        built = list(tools)
        catalog = cls(Listed.of(tool) for tool in built)
        catalog._loaded = {tool.name: tool for tool in built}
        return catalog

    @classmethod
    def read(cls, package: str, file: str = "listing.json") -> Catalog:
        """The catalog of `package` (e.g. `bookshop_mcp.tools`), from its `file`."""
        where = f"{package.replace('.', '/')}/{file}"
        root = resources.files(package)
        try:
            lines = root.joinpath(file).read_bytes().split(b"\n")
        except OSError as exc:
            raise RuntimeError(f"cannot read the tool listing {where}: {exc}") from None
        if lines[:1] != [_HEAD] or lines[-2:] != [b"]}", b""]:
            raise RuntimeError(
                f"{where} is not a tool listing of format {LISTING_FORMAT}: regenerate the "
                "project with mcpgen"
            )
        try:
            pairs = [_listed(line) for line in lines[1:-2]]
        except (KeyError, TypeError, ValueError) as exc:
            raise RuntimeError(f"{where} is malformed ({exc}): regenerate the project") from None
        catalog = cls((entry for entry, _ in pairs), package)
        folder = Path(str(root)) if isinstance(root, Path) else None
        for entry, digest in pairs:
            if _module_digest(root, folder, entry.module) != digest:
                catalog._edited(entry)
        return catalog

    def _edited(self, entry: Listed) -> None:
        """List `entry` as its (edited) module now defines it."""
        tool = self.load(entry.name)
        position = self.entries.index(entry)
        edited = replace(Listed.of(tool, entry.module, entry.tags), phrases=entry.phrases)
        self.entries = (*self.entries[:position], edited, *self.entries[position + 1 :])
        self._by_name[entry.name] = edited

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Listed]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, name: str) -> Listed | None:
        return self._by_name.get(name)

    def load(self, name: str) -> ToolDef:
        """The operation's `ToolDef`, its module imported on first use."""
        tool = self._loaded.get(name)
        if tool is not None:
            return tool
        entry = self._by_name[name]
        module = importlib.import_module(f"{self.package}.{entry.module}")
        found = getattr(module, "TOOL", None)
        if not isinstance(found, ToolDef) or found.name != name or found.kind != entry.kind:
            raise RuntimeError(
                f"{module.__name__}.TOOL does not define the {entry.kind} {name!r} that "
                "listing.json lists: regenerate the project, or make them agree"
            )
        self._loaded[name] = found
        return found


def source_digest(source: bytes) -> str:
    """The digest listing.json records of a module's source (line ends normalised)."""
    return hashlib.sha256(source.replace(b"\r\n", b"\n")).hexdigest()[:16]


def _module_digest(root: Any, folder: Path | None, module: str) -> str | None:
    try:
        if folder is not None:  # a package on disk: plain reads, the common and quick case
            return source_digest((folder / f"{module}.py").read_bytes())
        return source_digest(root.joinpath(f"{module}.py").read_bytes())
    except OSError:  # no source beside the package (compiled only): import it to be sure
        return None


_HEAD = b'{"format": %d, "operations": [' % LISTING_FORMAT
_TOOL = b', "tool": '


def _listed(line: bytes) -> tuple[Listed, str]:
    """One line of listing.json: its operation, and the digest of its module's source.

    The line is a JSON object whose last member is `"tool"`, written compact; everything
    before it is written with spaces after `,` and `:`, so the first `, "tool": ` is where
    the tool's bytes start (inside a string, quotes are escaped)."""
    line = line.removesuffix(b",")
    at = line.find(_TOOL)
    if at < 0 or not line.endswith(b"}"):
        raise ValueError("an operation has no tool")
    item = json.loads(line[:at] + b"}")
    if not isinstance(item, dict):
        raise TypeError("an operation is not an object")
    entry = cast(dict[str, Any], item)
    kind = entry["kind"]
    if kind not in ("tool", "resource", "resource_template"):
        raise ValueError(f"unknown kind {kind!r}")
    listed = Listed(
        name=str(entry["name"]),
        module=str(entry["module"]),
        kind=kind,
        method=str(entry["method"]),
        path=str(entry["path"]),
        tags=tuple(str(t) for t in entry.get("tags", ())),
        raw=line[at + len(_TOOL) : -1],
        uri=entry.get("uri"),
        scopes=tuple(str(s) for s in entry.get("scopes", ())),
        phrases=tuple(str(p) for p in entry.get("phrases", ())),
    )
    return listed, str(entry["digest"])
