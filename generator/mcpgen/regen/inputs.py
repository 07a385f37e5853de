"""The inputs of a run: given on the command line, or taken from `.mcpgen/inputs.json`.

Recorded paths are POSIX and relative to the project directory, so the project and its spec
can move together (a monorepo checkout anywhere, CI). The record itself is read and written
by `mcpgen.records`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from mcpgen.errors import McpgenError
from mcpgen.records import INPUTS_PATH, Recorded, load_inputs

__all__ = ["Inputs", "is_newer", "record_inputs", "relative", "resolve"]


@dataclass(frozen=True)
class Inputs:
    """The inputs of one run, as paths the current process can open."""

    spec: Path
    mapping: Path | None
    name: str | None  # as given for this run; None lets the mapping or the record decide
    recorded: Recorded | None  # what the project held before this run


def resolve(project: Path, spec: Path | None, mapping: Path | None, name: str | None) -> Inputs:
    """The given inputs, the missing spec and mapping taken from the project's record."""
    recorded = load_inputs(project)
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


def record_inputs(project: Path, inputs: Inputs, name: str, version: str) -> Recorded:
    """What `inputs.json` records for a run with `inputs` that produced server `name`."""
    mapping = relative(inputs.mapping, project) if inputs.mapping is not None else None
    return Recorded(relative(inputs.spec, project), name, version, mapping)


def is_newer(recorded: str, running: str) -> bool:
    """True when version `recorded` is newer than `running` (both dotted numbers)."""
    return _version_key(recorded) > _version_key(running)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+", maxsplit=1)[0])[:3])


def _recorded_path(project: Path, recorded: str, what: str) -> Path:
    """A recorded path made usable from the current directory; it must exist."""
    full = project / recorded
    if not full.is_file():
        shown = os.path.normpath(full)
        raise McpgenError.single(
            f"{what}-missing",
            f"the {what} recorded for this project, {recorded} (that is {shown}), does not "
            f"exist; pass its new location: mcpgen generate SPEC -o {project}"
            + (" -m MAPPING" if what == "mapping" else ""),
            file=str(project / INPUTS_PATH),
        )
    return full


def relative(path: Path, project: Path) -> str:
    """`path` relative to `project`, POSIX, as the records name files."""
    target, start = path.resolve(), project.resolve()
    try:
        return Path(os.path.relpath(target, start)).as_posix()
    except ValueError:  # another drive (Windows): only an absolute path can name it
        return target.as_posix()
