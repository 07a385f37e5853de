"""The project's records under `.mcpgen/`, read and written in one place.

- `base.json`: the last generation's exact output, the merge base;
- `inputs.json`: the spec, mapping and name the project was generated from, and mcpgen's
  version, so that `mcpgen generate DIR` and `mcpgen check DIR` need no other argument;
- `tools.json`: what agents saw of each tool, to report what a new generation changes;
- `digests.json`: digests of the inputs, of the output and of each operation module's and the
  models' sources (see `mcpgen.digests`), so that a re-run skips what would not change.

Every record is JSON with a `format` number, sorted keys and one trailing newline, so the same
content always serialises to the same bytes; it is written only when those bytes change (the
merge engine does that). A record written by a newer mcpgen (a higher `format`) is refused
with a located error. The `.mcpgen/lock` and `.mcpgen/txn/` of a running merge are not
records: they belong to `regen`.

Formats::

    base.json   {"files": {"<path>": {"executable": false, "text": "..."},
                           "<binary path>": {"base64": "...", "executable": false}},
                 "format": 1,
                 "moved": ["<path>", ...],       # edited files set aside by a layout change
                 "unresolved": ["<path>", ...],  # removed files left with conflict markers
                 "user_owned": ["<glob>", ...]}
    inputs.json {"format": 1, "mapping": "../mcpgen.yaml", "mcpgen_version": "0.1.0",
                 "name": "bookshop", "spec": "../../specs/bookshop.yaml"}
    tools.json  {"format": 1, "tools": {"get_book": {"arguments": {"bookId": "string"},
                 "hints": "idempotent, open_world, read_only", "kind": "resource",
                 "operation": "GET /books/{bookId}", "output": "object",
                 "required": ["bookId"]}}}
    digests.json {"files": {"src/bookshop_mcp/tools/get_book.py": "<source digest>", ...},
                  "format": 1, "inputs": "<sha256>", "output": "<sha256>",
                  "owned": ["src/bookshop_mcp/custom.py"],   # user-owned files rendered
                  "refs": ["schemas/book.yaml"],             # files the spec's $refs bundled
                  "warnings": [{"code": "...", "file": "../openapi.yaml", "line": 12,
                                "message": "...", "pointer": "/paths/..."}]}

`inputs.json` and `digests.json` paths are POSIX and relative to the project directory, so a
project and its spec can move together. `digests.json` only saves work: one that is missing or
unusable is ignored (the run renders everything and writes it again). `kind` in `tools.json`
appears only for resources and templates; the optional lists of `base.json` and `digests.json`
only when they are not empty.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Diagnostic, Level, McpgenError, diagnostic_json
from .files import RenderedFile, is_binary

__all__ = [
    "BASE_PATH",
    "DIGESTS_PATH",
    "INPUTS_PATH",
    "RECORDS_DIR",
    "TOOLS_PATH",
    "Base",
    "Digests",
    "Recorded",
    "ToolSummary",
    "dump_base",
    "dump_digests",
    "dump_inputs",
    "dump_tools",
    "file_stamp",
    "load_base",
    "load_digests",
    "load_inputs",
    "load_tools",
]

RECORDS_DIR = ".mcpgen"
BASE_PATH = f"{RECORDS_DIR}/base.json"
INPUTS_PATH = f"{RECORDS_DIR}/inputs.json"
TOOLS_PATH = f"{RECORDS_DIR}/tools.json"
DIGESTS_PATH = f"{RECORDS_DIR}/digests.json"
_FORMATS = {BASE_PATH: 1, INPUTS_PATH: 1, TOOLS_PATH: 1, DIGESTS_PATH: 1}
_WHAT = {
    BASE_PATH: "base",
    INPUTS_PATH: "inputs record",
    TOOLS_PATH: "tool summary",
    DIGESTS_PATH: "digest record",
}


@dataclass(frozen=True)
class Base:
    """The last generation's output, as the merge base."""

    files: Mapping[str, RenderedFile]
    unresolved: tuple[str, ...] = ()
    user_owned: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()
    # base.json as `load_base` found it (see `file_stamp`): a base loaded early in a run is
    # used by its merge only while the file is still the one it was loaded from.
    stamp: tuple[int, ...] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Recorded:
    """The inputs as stored: paths relative to the project directory."""

    spec: str
    name: str
    mcpgen_version: str
    mapping: str | None = None


@dataclass(frozen=True)
class ToolSummary:
    """What an agent sees of one tool, compactly."""

    arguments: Mapping[str, str]  # argument → type summary
    required: tuple[str, ...]
    output: str
    operation: str  # "METHOD /path"
    hints: str
    kind: str = "tool"  # or "resource", "resource_template" (as the mapping exposes it)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "arguments": dict(sorted(self.arguments.items())),
            "hints": self.hints,
            "operation": self.operation,
            "output": self.output,
            "required": sorted(self.required),
        }
        if self.kind != "tool":
            data["kind"] = self.kind
        return data


@dataclass(frozen=True)
class Digests:
    """What the last generation was made from, as digests (see `mcpgen.digests`)."""

    inputs: str
    output: str
    files: Mapping[str, str]  # operation module or models path → its source digest
    owned: tuple[str, ...] = ()  # the user-owned files the template renders
    refs: tuple[str, ...] = ()  # files the spec's $refs bundled, relative to the project
    # The translation's warnings, files relative to the project: a run with the same inputs
    # reports them again without translating.
    warnings: tuple[Diagnostic, ...] = ()


class _UnusableError(Exception):
    """A record that exists but cannot be used: why, and the line when JSON says."""

    def __init__(self, why: str, line: int | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.line = line


# --- base.json -----------------------------------------------------------------------------


def dump_base(base: Base) -> bytes:
    data: dict[str, Any] = {"files": {path: _file_json(base.files[path]) for path in base.files}}
    for key, values in (
        ("moved", base.moved),
        ("unresolved", base.unresolved),
        ("user_owned", base.user_owned),
    ):
        if values:
            data[key] = sorted(values) if key != "user_owned" else list(values)
    return _dump(BASE_PATH, data)


def load_base(project: Path) -> Base | None:
    """The project's base, or None when it has none; McpgenError when it is unreadable."""
    path = project / BASE_PATH
    stamp = file_stamp(path)  # before reading: a change while it is read changes the stamp
    data = _load_strict(project, BASE_PATH, "bad-base", "base-too-new")
    if data is None:
        return None
    files = data.get("files")
    if not isinstance(files, dict):
        raise _bad(path, "'files' is not an object", "bad-base")
    try:
        parsed = {str(name): _parse_file(str(name), entry) for name, entry in files.items()}
        return Base(
            files=parsed,
            unresolved=_strings(data, "unresolved"),
            user_owned=_strings(data, "user_owned"),
            moved=_strings(data, "moved"),
            stamp=stamp,
        )
    except _UnusableError as exc:
        raise _bad(path, exc.why, "bad-base") from None


def file_stamp(path: Path) -> tuple[int, ...] | None:
    """What tells one version of a file from another without reading it: its device, inode,
    size, and modification and change times (a write or a rename changes the change time,
    which no user can set); None when it cannot be looked at."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _file_json(file: RenderedFile) -> dict[str, Any]:
    if is_binary(file.content):
        return {
            "base64": base64.b64encode(file.content).decode("ascii"),
            "executable": file.executable,
        }
    return {"executable": file.executable, "text": file.content.decode("utf-8")}


def _parse_file(name: str, entry: object) -> RenderedFile:
    if not isinstance(entry, dict):
        raise _UnusableError(f"entry {name!r} is not an object")
    executable = entry.get("executable", False)
    if not isinstance(executable, bool):
        raise _UnusableError(f"entry {name!r}: 'executable' is not a boolean")
    text, encoded = entry.get("text"), entry.get("base64")
    if isinstance(text, str) and encoded is None:
        return RenderedFile(text.encode("utf-8"), executable)
    if isinstance(encoded, str) and text is None:
        try:
            return RenderedFile(base64.b64decode(encoded, validate=True), executable)
        except binascii.Error:
            raise _UnusableError(f"entry {name!r}: 'base64' is not base64") from None
    raise _UnusableError(f"entry {name!r} needs exactly one of 'text' or 'base64'")


# --- inputs.json ---------------------------------------------------------------------------


def dump_inputs(recorded: Recorded) -> bytes:
    data: dict[str, Any] = {
        "mcpgen_version": recorded.mcpgen_version,
        "name": recorded.name,
        "spec": recorded.spec,
    }
    if recorded.mapping is not None:
        data["mapping"] = recorded.mapping
    return _dump(INPUTS_PATH, data)


def load_inputs(project: Path) -> Recorded | None:
    """The project's recorded inputs; None when it has none; McpgenError when unreadable."""
    data = _load_strict(project, INPUTS_PATH, "bad-inputs", "inputs-too-new")
    if data is None:
        return None
    try:
        mapping = data.get("mapping")
        if mapping is not None and not isinstance(mapping, str):
            raise _UnusableError("'mapping' is not a string")
        return Recorded(
            spec=_string(data, "spec"),
            name=_string(data, "name"),
            mcpgen_version=_string(data, "mcpgen_version"),
            mapping=mapping,
        )
    except _UnusableError as exc:
        raise _bad(project / INPUTS_PATH, exc.why, "bad-inputs") from None


# --- tools.json ----------------------------------------------------------------------------


def dump_tools(summaries: Mapping[str, ToolSummary]) -> bytes:
    return _dump(TOOLS_PATH, {"tools": {name: summaries[name].to_json() for name in summaries}})


def load_tools(
    project: Path, raw: bytes | None = None
) -> tuple[dict[str, ToolSummary] | None, Diagnostic | None]:
    """The recorded summaries, or None with a warning when there are none usable: an
    unusable tool summary only makes the agent-facing report unknown, never stops a run.
    `raw`, when given, is the file's content already read this run."""
    path = project / TOOLS_PATH
    try:
        data = _load(project, TOOLS_PATH) if raw is None else _parse(raw, TOOLS_PATH)
        if data is None:
            return None, None
        tools = data.get("tools")
        if not isinstance(tools, dict):
            raise _UnusableError("not a valid tool summary")
        return {str(name): _summary(entry) for name, entry in tools.items()}, None
    except _UnusableError as exc:
        message = f"{exc.why}; agent-facing changes are not known"
        return None, Diagnostic(Level.WARNING, "tools-record", message, str(path), None, exc.line)


def _summary(entry: Any) -> ToolSummary:
    try:
        return ToolSummary(
            arguments={str(k): str(v) for k, v in dict(entry["arguments"]).items()},
            required=tuple(str(arg) for arg in entry["required"]),
            output=str(entry["output"]),
            operation=str(entry["operation"]),
            hints=str(entry["hints"]),
            kind=str(entry.get("kind", "tool")),
        )
    except (KeyError, TypeError, AttributeError, ValueError):
        raise _UnusableError("not a valid tool summary") from None


# --- digests.json --------------------------------------------------------------------------


def dump_digests(digests: Digests) -> bytes:
    data: dict[str, Any] = {
        "files": dict(sorted(digests.files.items())),
        "inputs": digests.inputs,
        "output": digests.output,
    }
    if digests.owned:
        data["owned"] = sorted(digests.owned)
    if digests.refs:
        data["refs"] = list(digests.refs)
    if digests.warnings:
        data["warnings"] = [
            {k: v for k, v in diagnostic_json(d).items() if k != "level"} for d in digests.warnings
        ]
    return _dump(DIGESTS_PATH, data)


def load_digests(project: Path) -> Digests | None:
    """The recorded digests, or None when there are none usable (a run then does all its
    work, and records them again)."""
    try:
        data = _load(project, DIGESTS_PATH)
        if data is None:
            return None
        files = data.get("files")
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            return None
        return Digests(
            inputs=_string(data, "inputs"),
            output=_string(data, "output"),
            files={str(path): digest for path, digest in files.items()},
            owned=_strings(data, "owned"),
            refs=_strings(data, "refs"),
            warnings=tuple(_warning(entry) for entry in _list(data, "warnings")),
        )
    except _UnusableError:
        return None


def _warning(entry: Any) -> Diagnostic:
    try:
        file, pointer, line = entry.get("file"), entry.get("pointer"), entry.get("line")
        if not all(isinstance(v, str | None) for v in (file, pointer)):
            raise _UnusableError("a warning's file or pointer is not a string")
        if line is not None and (not isinstance(line, int) or isinstance(line, bool)):
            raise _UnusableError("a warning's line is not a number")
        return Diagnostic(
            Level.WARNING, str(entry["code"]), str(entry["message"]), file, pointer, line
        )
    except (KeyError, AttributeError):
        raise _UnusableError("not a valid warning") from None


# --- shared --------------------------------------------------------------------------------


def _dump(record: str, data: dict[str, Any]) -> bytes:
    text = json.dumps(
        {**data, "format": _FORMATS[record]}, indent=1, sort_keys=True, ensure_ascii=False
    )
    return (text + "\n").encode("utf-8")


def _load(project: Path, record: str) -> dict[str, Any] | None:
    """The record's JSON object; None when absent; `_UnusableError` when it can't be used
    (including a newer format, which the caller words as it needs)."""
    path = project / record
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _UnusableError(f"cannot read it ({exc.strerror or exc})") from None
    return _parse(raw, record)


def _parse(raw: bytes, record: str) -> dict[str, Any]:
    """`_load`, of the record's bytes already read."""
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _UnusableError(f"not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise _UnusableError(f"not JSON ({exc.msg})", exc.lineno) from None
    if not isinstance(data, dict):
        raise _UnusableError("the top level is not an object")
    version = data.get("format")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _UnusableError("'format' is missing")
    if version > _FORMATS[record]:
        raise _UnusableError(f"written by a newer mcpgen (format {version})")
    return data


def _load_strict(project: Path, record: str, code: str, too_new: str) -> dict[str, Any] | None:
    """`_load`, with an unusable record as a located error that says how to recover."""
    path = project / record
    try:
        return _load(project, record)
    except _UnusableError as exc:
        if exc.why.startswith("written by a newer mcpgen"):
            raise McpgenError.single(
                too_new, f"{path} was {exc.why}; upgrade mcpgen", file=str(path)
            ) from None
        raise _bad(path, exc.why, code, exc.line) from None


def _bad(path: Path, why: str, code: str, line: int | None = None) -> McpgenError:
    what = _WHAT[f"{RECORDS_DIR}/{path.name}"]
    return McpgenError.single(
        code,
        f"{path} is not a valid mcpgen {what}: {why}; restore it from version control",
        file=str(path),
        line=line,
    )


def _string(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise _UnusableError(f"'{key}' is missing or not a string")
    return value


def _list(data: Mapping[str, object], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise _UnusableError(f"'{key}' is not a list")
    return value


def _strings(data: Mapping[str, object], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _UnusableError(f"'{key}' is not a list of strings")
    items: Sequence[str] = value
    return tuple(items)
