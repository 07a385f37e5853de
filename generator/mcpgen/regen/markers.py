"""Finding conflict markers (and binary side files) left by a previous run."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from mcpgen.regen.decide import SIDECAR_SUFFIX
from mcpgen.regen.gitops import LABEL_OURS, LABEL_THEIRS

__all__ = ["first_marker_line", "scan_markers"]

_MARKERS = (f"<<<<<<< {LABEL_OURS}".encode(), f">>>>>>> {LABEL_THEIRS}".encode())


def scan_markers(project: Path, paths: Iterable[str]) -> list[str]:
    """`path:line` for every marker line mcpgen wrote that is still in one of `paths`, and
    `path.mcpgen-new:1` for every binary side file still present next to one of them."""
    found: list[str] = []
    for path in sorted(set(paths)):
        found += _scan_file(project, path)
        sidecar = path + SIDECAR_SUFFIX
        if (project / sidecar).is_file():
            found.append(f"{sidecar}:1")
    return found


def first_marker_line(content: bytes) -> int | None:
    """The 1-based line of the first conflict marker mcpgen writes in `content`, if any."""
    return next(_marker_lines(content), None)


def _scan_file(project: Path, path: str) -> list[str]:
    full = project / path
    if full.is_symlink() or not full.is_file():
        return []
    return [f"{path}:{number}" for number in _marker_lines(full.read_bytes())]


def _marker_lines(content: bytes) -> Iterator[int]:
    if not any(marker in content for marker in _MARKERS):
        return
    for number, line in enumerate(content.split(b"\n"), start=1):
        if line.rstrip(b"\r").startswith(_MARKERS):
            yield number
