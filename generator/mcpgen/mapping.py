"""The mapping file (`mcpgen.yaml`): the curation layer between an API and its MCP server.

A strict model: an unknown or misspelt key is a located error. Its JSON Schema is published as
`mcpgen.schema.json` (regenerate with `python scripts/mapping_schema.py`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import Diagnostic, Level, McpgenError, escape_pointer
from .load import Source, read_source

__all__ = [
    "Argument",
    "DeploySettings",
    "Mapping",
    "Match",
    "OperationOverride",
    "PromptArgument",
    "PromptSpec",
    "Rule",
    "ServerSettings",
    "check_mapping",
    "load_mapping",
    "mapping_json_schema",
]

Kind = Literal["tool", "resource", "resource_template", "exclude"]
Method = Literal["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Strict):
    """What the server says about itself."""

    name: Annotated[
        str | None,
        Field(description="Server name; the project is `<name>-mcp`. Default: from info.title."),
    ] = None
    title: Annotated[
        str | None, Field(description="Human-readable title. Default: from the spec.")
    ] = None
    instructions: Annotated[
        str | None, Field(description="Instructions sent to clients at initialisation.")
    ] = None
    version: Annotated[str | None, Field(description="Server version. Default: info.version.")] = (
        None
    )
    base_url: Annotated[
        str | None,
        Field(description="Default upstream base URL. Default: the spec's first server URL."),
    ] = None


class Match(_Strict):
    """Which operations a rule applies to; every given condition must hold (empty: all)."""

    methods: Annotated[list[Method], Field(description="HTTP methods, upper case.")] = []
    paths: Annotated[
        list[str], Field(description="Path globs: `*` matches one segment, `**` any number.")
    ] = []
    tags: Annotated[list[str], Field(description="Any of these tags.")] = []
    operation_ids: Annotated[list[str], Field(description="operationId globs (`*`, `?`).")] = []
    deprecated: Annotated[bool | None, Field(description="Only (un)deprecated operations.")] = None


class Rule(_Strict):
    """One ordered rule: the first rule that matches an operation decides what it becomes."""

    match: Match = Match()
    kind: Annotated[Kind, Field(alias="as", description="What matching operations become.")]


class Annotations(_Strict):
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None


class Argument(_Strict):
    """Per-argument changes: rename it, or hide it and always send a fixed value."""

    name: Annotated[str | None, Field(description="New argument name seen by agents.")] = None
    description: str | None = None
    hidden: Annotated[bool, Field(description="Leave it out of the tool's input schema.")] = False
    value: Annotated[Any, Field(description="The value sent when hidden.")] = None


# RFC 6749 3.3 scope-token: printable ASCII without space, double quote or backslash.
ScopeName = Annotated[str, Field(pattern=r"^[\x21\x23-\x5B\x5D-\x7E]+$")]


class OperationOverride(_Strict):
    """Changes to one operation, keyed by operationId or `METHOD /path`."""

    name: Annotated[str | None, Field(description="Tool name, `^[a-zA-Z0-9_-]{1,64}$`.")] = None
    title: str | None = None
    description: str | None = None
    annotations: Annotations | None = None
    arguments: dict[str, Argument] = {}
    keep_fields: Annotated[
        list[str],
        Field(description="Reply fields to keep, as dotted paths (lists are stepped through)."),
    ] = []
    uri: Annotated[
        str | None, Field(description="Resource URI (template) when the operation is a resource.")
    ] = None
    scopes: Annotated[
        list[ScopeName] | None,
        Field(
            description="Scopes a caller's token needs for this tool in the oauth modes "
            "(this server's names; [] for none). Default: the scopes the spec's security "
            "requirement lists, renamed by the top-level `scopes`."
        ),
    ] = None
    search: Annotated[
        list[Annotated[str, Field(max_length=300, pattern=r"\S")]],
        Field(
            description='Other ways users ask for this operation, in their words ("give a '
            "customer their money back\" for a refund): compact exposure's `search_operations` "
            "matches them as strongly as the title. Not shown to clients."
        ),
    ] = []


class PromptArgument(_Strict):
    name: str
    description: str = ""
    required: bool = True


class PromptSpec(_Strict):
    """A prompt declared in the mapping: a message template filled with its arguments."""

    name: str
    title: str | None = None
    description: str = ""
    arguments: list[PromptArgument] = []
    template: Annotated[str, Field(description="User message; `{argument}` is replaced.")]


class DeploySettings(_Strict):
    """Which deploy targets get files in the project (all by default). Fly.io, Cloudflare
    Containers and AWS Lambda run the project's Docker image, so they need `docker`."""

    docker: Annotated[
        bool, Field(description="`Dockerfile`, `.dockerignore` and `requirements.lock`.")
    ] = True
    fly: Annotated[bool, Field(description="`fly.toml` for Fly.io.")] = True
    cloudflare: Annotated[
        bool,
        Field(
            description="Cloudflare Containers: `wrangler.jsonc`, `worker/index.ts`, "
            "`package.json` and `package-lock.json`."
        ),
    ] = True
    cloudflare_python: Annotated[
        bool,
        Field(
            description="The experimental native Python Worker: `workers-python/` and "
            "`src/python_worker.py`."
        ),
    ] = True
    aws_lambda: Annotated[
        bool,
        Field(
            alias="lambda",
            description="AWS Lambda through Lambda Web Adapter (the `lambda` stage of the "
            "Dockerfile, and its README section).",
        ),
    ] = True

    @model_validator(mode="after")
    def _image_targets_need_docker(self) -> DeploySettings:
        if not self.docker:
            needing = [
                key
                for key, on in (("fly", self.fly), ("cloudflare", self.cloudflare),
                                ("lambda", self.aws_lambda))
                if on
            ]  # fmt: skip
            if needing:
                raise ValueError(
                    f"{', '.join(needing)} run the project's Docker image: set them to false "
                    "too, or keep docker: true"
                )
        return self


class Mapping(_Strict):
    """The whole mapping file."""

    version: Literal[1] = 1
    server: ServerSettings = ServerSettings()
    exposure: Annotated[
        Literal["tools", "compact"],
        Field(
            description="`tools`: one tool per operation; `compact`: three meta-tools "
            "(search, describe, call) for huge APIs."
        ),
    ] = "tools"
    models: Annotated[
        bool | None,
        Field(
            description="Write `models.py`, typed pydantic models of the API's schemas. "
            "Default: when the component schemas are at most 1 MB of JSON."
        ),
    ] = None
    default: Annotated[Kind, Field(description="What operations no rule matches become.")] = "tool"
    rules: list[Rule] = []
    operations: dict[str, OperationOverride] = {}
    prompts: list[PromptSpec] = []
    scopes: Annotated[
        dict[str, ScopeName],
        Field(
            description="Renames the spec's OAuth scopes to this server's scope names "
            "(spec scope → server scope), for the scopes tools require of callers."
        ),
    ] = {}
    deploy: Annotated[
        DeploySettings, Field(description="Deploy files to generate (all by default).")
    ] = DeploySettings()


def mapping_json_schema() -> dict[str, Any]:
    schema = Mapping.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mcpgen mapping file (mcpgen.yaml)"
    return schema


def load_mapping(path: Path | None, display: str | None = None) -> tuple[Mapping, Source | None]:
    """Read and check a mapping file; None gives the defaults."""
    if path is None:
        return Mapping(), None
    source = read_source(path, display)
    return check_mapping(source), source


def check_mapping(source: Source) -> Mapping:
    """The mapping a read mapping file holds, checked; located errors when it is not one."""
    data = source.data if source.data is not None else {}
    if not isinstance(data, dict):
        raise source.error("mapping", "the mapping file must be a YAML mapping", "")
    try:
        return Mapping.model_validate(data)
    except ValidationError as exc:
        raise McpgenError(_diagnostics(source, exc)) from None


def _diagnostics(source: Source, exc: ValidationError) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for error in exc.errors(include_url=False):
        loc = [str(t) for t in error["loc"]]
        pointer = "".join("/" + escape_pointer(t) for t in loc)
        if error["type"] == "extra_forbidden":
            message = f"unknown key `{loc[-1]}`"
        elif error["type"] == "missing":
            message = f"missing required key `{loc[-1]}`"
        else:
            text = str(error["msg"]).removeprefix("Value error, ")
            message = f"`{loc[-1] if loc else 'mapping'}`: {text}"
        found.append(
            Diagnostic(
                Level.ERROR, "mapping", message, source.display, pointer, source.line_of(pointer)
            )
        )
    return found


def dump_schema(path: Path) -> None:
    path.write_text(json.dumps(mapping_json_schema(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    dump_schema(Path(__file__).resolve().parents[2] / "mcpgen.schema.json")
