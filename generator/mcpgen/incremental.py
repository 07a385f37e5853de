"""What a run takes from the last generation instead of doing the work again.

The last generation is trusted only as far as its records agree: the base must hash to the
output digest recorded beside it (see `mcpgen.digests`). Then

- a run whose inputs digest equals the recorded one produces exactly the base again, so it
  needs neither the spec nor a render: the merge compares the project with the base;
- any other run takes each operation module and the models from the base when their source
  digest is unchanged, and renders only the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import render
from .digests import inputs_digest, output_digest, template_digest
from .errors import McpgenError
from .files import RenderedFile
from .load import InputFiles, Source
from .naming import project_names
from .records import TOOLS_PATH, Base, Digests, load_base, load_digests
from .regen.inputs import Inputs

__all__ = ["Last", "chosen_name", "digest_of_inputs", "last_generation", "unchanged"]


@dataclass(frozen=True)
class Last:
    """The last generation: its digests, its base (verified against them), its tool summary."""

    digests: Digests
    base: Base
    tools: bytes

    def reusable(self, sources: Mapping[str, str]) -> dict[str, RenderedFile]:
        """The base's files whose source digest is the one recorded for them."""
        recorded = self.digests.files
        return {
            path: self.base.files[path]
            for path, digest in sources.items()
            if recorded.get(path) == digest and path in self.base.files
        }


def last_generation(project: Path) -> tuple[Last | None, Base | None]:
    """The last generation when its records agree with each other (None otherwise: then
    nothing is reused), and the base as it was loaded for that (None when there is none, or
    no usable digests to check it against). An unreadable base is the merge's error, raised
    as usual."""
    digests = load_digests(project)
    if digests is None:
        return None, None
    base = load_base(project)
    try:
        tools = (project / TOOLS_PATH).read_bytes()
    except OSError:
        return None, base
    if base is None or output_digest(base.files, tools) != digests.output:
        return None, base
    return Last(digests, base, tools), base


def digest_of_inputs(spec: Sequence[bytes], mapping: bytes | None, name: str) -> str:
    """The digest of a run's inputs: the bytes of the spec and of the files its `$ref`s
    bundled (in that order), the mapping's, and `name`, the server name it generates."""
    template = template_digest(render.template_dir(), render.RUNTIME)
    return inputs_digest(template, spec, mapping, name)


def unchanged(
    project: Path, inputs: Inputs, last: Last, files: InputFiles, mapping: Source | None
) -> str | None:
    """The server name, when this run's inputs are the last generation's (nothing to render);
    None when they may differ, or a user-owned file must be created again. The spec and the
    files it bundled last time are read through `files`, `mapping` is the mapping file as
    this run read it."""
    name = _expected_name(inputs, mapping)
    if name is None:
        return None
    try:
        spec = [files.read(inputs.spec), *(files.read(project / ref) for ref in last.digests.refs)]
    except OSError:  # the run finds out why, and says so
        return None
    digest = digest_of_inputs(spec, mapping.raw if mapping is not None else None, name)
    if digest != last.digests.inputs:
        return None
    if not all((project / path).is_file() for path in last.digests.owned):
        return None
    return name


def chosen_name(inputs: Inputs, mapping_name: str | None) -> str | None:
    """The name a run's inputs give its server, before the spec has a say: the given name,
    else the mapping's `server.name` (`mapping_name`), else the recorded one, so a changed
    `info.title` never renames the package. None leaves it to `info.title` (translate takes
    the name it is given, else the mapping's, else one from `info.title`). A run generates
    with it (`pipeline`), and `unchanged` foretells that run's name with it."""
    if inputs.name is not None:
        return inputs.name
    if mapping_name:
        return mapping_name
    return inputs.recorded.name if inputs.recorded is not None else None


def _expected_name(inputs: Inputs, mapping: Source | None) -> str | None:
    """The server name this run will generate, without translating (`chosen_name`, cleaned
    as translate cleans it). None when unsure."""
    named = _mapping_name(mapping.data) if inputs.name is None and mapping is not None else ""
    if named is None:
        return None
    chosen = chosen_name(inputs, named)
    return _clean(chosen) if chosen is not None else None


def _clean(name: str) -> str | None:
    try:
        return project_names(name)[0]
    except McpgenError:  # no usable name: the run says so
        return None


def _mapping_name(data: Any) -> str | None:
    """The mapping's `server.name`: "" when it names none, None when it is not a name."""
    if data is None:
        return ""
    server = data.get("server") if isinstance(data, dict) else None
    if server is None:
        return ""
    name = server.get("name") if isinstance(server, dict) else None
    if name is None:
        return ""
    return name if isinstance(name, str) else None
