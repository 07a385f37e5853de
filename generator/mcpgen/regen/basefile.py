"""`.mcpgen/base.json`: the last generation's exact output, committed with the project.

Format 1::

    {"files": {"<path>": {"executable": false, "text": "..."},
               "<binary path>": {"base64": "...", "executable": false}},
     "format": 1,
     "unresolved": ["<path>", ...],   # only when a removed file was left with markers
     "user_owned": ["<glob>", ...]}   # only when the run had user-owned patterns

Keys are sorted and the file ends with a newline, so the same generation always
serialises to the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpgen.errors import McpgenError
from mcpgen.regen.model import RenderedFile
from mcpgen.regen.textutil import is_binary

__all__ = ["BASE_PATH", "FORMAT", "Base", "dump_base", "load_base"]

BASE_PATH = ".mcpgen/base.json"
FORMAT = 1


@dataclass(frozen=True)
class Base:
    files: Mapping[str, RenderedFile]
    unresolved: tuple[str, ...] = ()
    user_owned: tuple[str, ...] = ()


def dump_base(base: Base) -> bytes:
    data: dict[str, Any] = {
        "files": {path: _dump_file(base.files[path]) for path in sorted(base.files)},
        "format": FORMAT,
    }
    if base.unresolved:
        data["unresolved"] = sorted(base.unresolved)
    if base.user_owned:
        data["user_owned"] = list(base.user_owned)
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def load_base(project: Path) -> Base | None:
    """The project's base, or None when it has none; McpgenError when it is unreadable."""
    path = project / BASE_PATH
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(path, f"not JSON ({exc})") from None
    return _parse(path, data)


def _dump_file(file: RenderedFile) -> dict[str, Any]:
    if is_binary(file.content):
        return {
            "base64": base64.b64encode(file.content).decode("ascii"),
            "executable": file.executable,
        }
    return {"executable": file.executable, "text": file.content.decode("utf-8")}


def _parse(path: Path, data: object) -> Base:
    if not isinstance(data, dict):
        raise _bad(path, "the top level is not an object")
    version = data.get("format")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _bad(path, "'format' is missing")
    if version > FORMAT:
        raise McpgenError.single(
            "base-too-new",
            f"{path} was written by a newer mcpgen (format {version}); upgrade mcpgen",
            file=str(path),
        )
    files = data.get("files")
    if not isinstance(files, dict):
        raise _bad(path, "'files' is not an object")
    parsed = {str(name): _parse_file(path, str(name), entry) for name, entry in files.items()}
    return Base(
        files=parsed,
        unresolved=_strings(path, data, "unresolved"),
        user_owned=_strings(path, data, "user_owned"),
    )


def _parse_file(path: Path, name: str, entry: object) -> RenderedFile:
    if not isinstance(entry, dict):
        raise _bad(path, f"entry {name!r} is not an object")
    executable = entry.get("executable", False)
    if not isinstance(executable, bool):
        raise _bad(path, f"entry {name!r}: 'executable' is not a boolean")
    text, encoded = entry.get("text"), entry.get("base64")
    if isinstance(text, str) and encoded is None:
        return RenderedFile(text.encode("utf-8"), executable)
    if isinstance(encoded, str) and text is None:
        try:
            return RenderedFile(base64.b64decode(encoded, validate=True), executable)
        except binascii.Error:
            raise _bad(path, f"entry {name!r}: 'base64' is not base64") from None
    raise _bad(path, f"entry {name!r} needs exactly one of 'text' or 'base64'")


def _strings(path: Path, data: Mapping[str, object], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _bad(path, f"'{key}' is not a list of strings")
    items: Sequence[str] = value
    return tuple(items)


def _bad(path: Path, why: str) -> McpgenError:
    return McpgenError.single(
        "bad-base",
        f"{path} is not a valid mcpgen base: {why}; restore it from version control",
        file=str(path),
    )
