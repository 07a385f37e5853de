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
from dataclasses import dataclass, field
from importlib import resources
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
]

Exposure = Literal["tools", "compact"]
Kind = Literal["tool", "resource", "resource_template"]
LISTING_FORMAT = 1  # the version of tools/listing.json's layout


@dataclass(frozen=True)
class Scheme:
    """One security scheme of the upstream API and the variables holding its credentials."""

    kind: Literal["api_key", "bearer", "basic"]
    variables: tuple[str, ...]
    location: Literal["header", "query", "cookie"] = "header"
    param: str = "Authorization"


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


@dataclass(frozen=True)
class Listed:
    """One operation as the runtime knows it before its module is imported."""

    name: str
    module: str  # the module under tools/ that defines it ("" when given as a ToolDef)
    kind: Kind
    method: str
    path: str
    tags: tuple[str, ...]
    tool: Mapping[str, Any]  # the tool as tools/list shows it (JSON)
    uri: str | None = None

    @classmethod
    def of(cls, tool: ToolDef) -> Listed:
        return cls(tool.name, "", tool.kind, tool.method, tool.path, (), tool.wire(), tool.uri)


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
        try:
            data = json.loads(resources.files(package).joinpath(file).read_bytes())
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"cannot read the tool listing {where}: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != LISTING_FORMAT:
            raise RuntimeError(
                f"{where} is not a tool listing of format {LISTING_FORMAT}: regenerate the "
                "project with mcpgen"
            )
        try:
            entries = [_listed(item) for item in data["operations"]]
            digests = [str(item["digest"]) for item in data["operations"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise RuntimeError(f"{where} is malformed ({exc}): regenerate the project") from None
        catalog = cls(entries, package)
        for entry, digest in zip(entries, digests, strict=True):
            if _module_digest(package, entry.module) != digest:
                catalog._edited(entry)
        return catalog

    def _edited(self, entry: Listed) -> None:
        """List `entry` as its (edited) module now defines it."""
        tool = self.load(entry.name)
        position = self.entries.index(entry)
        edited = Listed(
            entry.name,
            entry.module,
            tool.kind,
            tool.method,
            tool.path,
            entry.tags,
            tool.wire(),
            tool.uri,
        )
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


def _module_digest(package: str, module: str) -> str | None:
    try:
        return source_digest(resources.files(package).joinpath(f"{module}.py").read_bytes())
    except OSError:  # no source beside the package (compiled only): import it to be sure
        return None


def _listed(item: Any) -> Listed:
    if not isinstance(item, dict):
        raise TypeError("an operation is not an object")
    entry = cast(dict[str, Any], item)
    kind = entry["kind"]
    if kind not in ("tool", "resource", "resource_template"):
        raise ValueError(f"unknown kind {kind!r}")
    tool = entry["tool"]
    if not isinstance(tool, dict) or tool.get("name") != entry["name"]:
        raise ValueError(f"the tool of {entry['name']!r} is not named so")
    return Listed(
        name=str(entry["name"]),
        module=str(entry["module"]),
        kind=kind,
        method=str(entry["method"]),
        path=str(entry["path"]),
        tags=tuple(str(t) for t in entry.get("tags", ())),
        tool=tool,
        uri=entry.get("uri"),
    )
