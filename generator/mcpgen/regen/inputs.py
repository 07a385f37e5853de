"""`.mcpgen/inputs.json`: how the project was generated, so a re-run needs no arguments.

Format 1 (sorted keys, one trailing newline; written only when it changes)::

    {"format": 1,
     "mapping": "../mcpgen.yaml",        # only when a mapping was used
     "mcpgen_version": "0.1.0",
     "name": "bookshop",                 # the server name the project was generated with
     "spec": "../../specs/bookshop.yaml"}

Paths are POSIX and relative to the project directory, so the project and its spec can
move together (a monorepo checkout anywhere, CI).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpgen.errors import McpgenError

__all__ = [
    "FORMAT",
    "INPUTS_PATH",
    "Inputs",
    "Recorded",
    "dump_inputs",
    "is_newer",
    "read_inputs",
    "resolve",
]

INPUTS_PATH = ".mcpgen/inputs.json"
FORMAT = 1


@dataclass(frozen=True)
class Recorded:
    """The inputs as stored: paths relative to the project directory."""

    spec: str
    name: str
    mcpgen_version: str
    mapping: str | None = None


@dataclass(frozen=True)
class Inputs:
    """The inputs of one run, as paths the current process can open."""

    spec: Path
    mapping: Path | None
    name: str | None  # as given for this run; None lets the mapping or the record decide
    recorded: Recorded | None  # what the project held before this run


def read_inputs(project: Path) -> Recorded | None:
    """The project's recorded inputs; None when it has none; McpgenError when unreadable."""
    path = project / INPUTS_PATH
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except (IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        raise _bad(path, f"cannot read it ({exc.strerror})") from None
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(path, f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise _bad(path, "the top level is not an object")
    version = data.get("format")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _bad(path, "'format' is missing")
    if version > FORMAT:
        raise McpgenError.single(
            "inputs-too-new",
            f"{path} was written by a newer mcpgen (format {version}); upgrade mcpgen",
            file=str(path),
        )
    mapping = data.get("mapping")
    if mapping is not None and not isinstance(mapping, str):
        raise _bad(path, "'mapping' is not a string")
    return Recorded(
        spec=_string(path, data, "spec"),
        name=_string(path, data, "name"),
        mcpgen_version=_string(path, data, "mcpgen_version"),
        mapping=mapping,
    )


def resolve(project: Path, spec: Path | None, mapping: Path | None, name: str | None) -> Inputs:
    """The given inputs, the missing spec and mapping taken from the project's record."""
    recorded = read_inputs(project)
    if spec is None:
        if recorded is None:
            raise McpgenError.single(
                "no-inputs",
                f"{project} records no inputs ({INPUTS_PATH} is missing); generate it with "
                f"`mcpgen generate SPEC -o {project}`",
                file=str(project),
            )
        spec = _recorded_path(project, recorded.spec, "spec")
    if mapping is None and recorded is not None and recorded.mapping is not None:
        mapping = _recorded_path(project, recorded.mapping, "mapping")
    return Inputs(spec=spec, mapping=mapping, name=name, recorded=recorded)


def dump_inputs(project: Path, inputs: Inputs, name: str, version: str) -> bytes:
    """The bytes of `inputs.json` for a run with `inputs` that produced server `name`."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "mcpgen_version": version,
        "name": name,
        "spec": _relative(inputs.spec, project),
    }
    if inputs.mapping is not None:
        data["mapping"] = _relative(inputs.mapping, project)
    return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def is_newer(recorded: str, running: str) -> bool:
    """True when version `recorded` is newer than `running` (both dotted numbers)."""
    return _version_key(recorded) > _version_key(running)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+", maxsplit=1)[0])[:3])


def _recorded_path(project: Path, relative: str, what: str) -> Path:
    """A recorded path made usable from the current directory; it must exist."""
    full = project / relative
    if not full.is_file():
        shown = os.path.normpath(full)
        raise McpgenError.single(
            f"{what}-missing",
            f"the {what} recorded for this project, {relative} (that is {shown}), does not "
            f"exist; pass its new location: mcpgen generate SPEC -o {project}"
            + (" -m MAPPING" if what == "mapping" else ""),
            file=str(project / INPUTS_PATH),
        )
    return full


def _relative(path: Path, project: Path) -> str:
    target, start = path.resolve(), project.resolve()
    try:
        return Path(os.path.relpath(target, start)).as_posix()
    except ValueError:  # another drive (Windows): only an absolute path can name it
        return target.as_posix()


def _string(path: Path, data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise _bad(path, f"'{key}' is missing or not a string")
    return value


def _bad(path: Path, why: str) -> McpgenError:
    return McpgenError.single(
        "bad-inputs",
        f"{path} is not a valid mcpgen inputs record: {why}; restore it from version control",
        file=str(path),
    )
