"""Digests of what a generation is made from, so that a re-run skips work that gives the same bytes.

- `inputs_digest`: the spec and every file its `$ref`s bundled, the mapping, the server name
  the run starts from, mcpgen's version and its template (the runtime included). Equal
  digests mean an identical generation: `mcpgen generate DIR` and `mcpgen check DIR` then
  only compare the project with its base, without loading the spec.
- `output_digest`: the generated files as the base records them, and the tool summary. A base
  that no longer hashes to the recorded digest (edited, or merged by hand) is never reused.
- `source_digest`: what one operation module, or the models, were rendered from. A file whose
  source digest is unchanged is taken from the base instead of being rendered and formatted
  again, so a changed operation re-renders its own module, not every module.

The Python code of mcpgen is not hashed (only its version is): every release changes the
version. A development checkout whose generator code changed without a version change can
delete `.mcpgen/digests.json` to have the next run render everything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from . import __version__
from .files import RenderedFile

__all__ = ["inputs_digest", "output_digest", "source_digest", "template_digest"]

_FORMAT = b"mcpgen-digest-1"


def _hasher(kind: str) -> hashlib._Hash:
    digest = hashlib.sha256(_FORMAT)
    _field(digest, kind.encode())
    return digest


def _field(digest: hashlib._Hash, data: bytes) -> None:
    """Length-prefixed, so that no two different sequences of fields hash alike."""
    digest.update(len(data).to_bytes(8, "big"))
    digest.update(data)


@cache
def template_digest(template: Path, runtime: Path) -> str:
    """mcpgen's version, and every file of its template and runtime (paths and bytes)."""
    digest = _hasher("template")
    _field(digest, __version__.encode())
    for root in (template, runtime):
        files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for path in files:
            _field(digest, path.relative_to(root).as_posix().encode())
            _field(digest, path.read_bytes())
    return digest.hexdigest()


def inputs_digest(
    template: str, files: Iterable[bytes], mapping: bytes | None, name: str | None
) -> str:
    """The digest of one run's inputs: the template digest, the bytes of the spec and of each
    file it bundles (in a stable order), the mapping's bytes and the server name given."""
    digest = _hasher("inputs")
    _field(digest, template.encode())
    for data in files:
        _field(digest, data)
    _field(digest, b"mapping" if mapping is not None else b"no mapping")
    _field(digest, mapping or b"")
    _field(digest, (name or "").encode())
    return digest.hexdigest()


def output_digest(files: Mapping[str, RenderedFile], tools: bytes) -> str:
    """The generated files (as the base holds them) and the tool summary's bytes."""
    digest = _hasher("output")
    for path in sorted(files):
        file = files[path]
        _field(digest, path.encode())
        _field(digest, b"x" if file.executable else b"-")
        _field(digest, file.content)
    _field(digest, tools)
    return digest.hexdigest()


def source_digest(template: str, kind: str, *parts: str | bytes) -> str:
    """What one generated file is rendered from (shortened: it names one file's sources)."""
    digest = _hasher(f"source:{kind}")
    _field(digest, template.encode())
    for part in parts:
        _field(digest, part.encode() if isinstance(part, str) else part)
    return digest.hexdigest()[:32]
