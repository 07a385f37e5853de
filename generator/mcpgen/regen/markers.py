"""Finding conflict markers (and binary side files) left by a previous run."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from mcpgen.regen.decide import SIDECAR_SUFFIX
from mcpgen.regen.gitops import LABEL_OURS, LABEL_THEIRS

__all__ = ["first_marker_line", "scan_markers"]

_MARKERS = (f"<<<<<<< {LABEL_OURS}".encode(), f">>>>>>> {LABEL_THEIRS}".encode())


def scan_markers(
    project: Path, paths: Iterable[str], read: Callable[[str], bytes | None] | None = None
) -> list[str]:
    """`path:line` for every marker line mcpgen wrote that is still in one of `paths`, and
    `path.mcpgen-new:1` for every binary side file still present next to one of them.
    `read`, when given, reads a path's content (None when it is not a regular file), so a
    caller that reads the files anyway reads each once."""
    found: list[str] = []
    for path in sorted(set(paths)):
        content = read(path) if read is not None else _content(project, path)
        if content is not None:
            found += [f"{path}:{number}" for number in _marker_lines(content)]
        sidecar = path + SIDECAR_SUFFIX
        if (project / sidecar).is_file():
            found.append(f"{sidecar}:1")
    return found


def first_marker_line(content: bytes) -> int | None:
    """The 1-based line of the first conflict marker mcpgen writes in `content`, if any."""
    return next(_marker_lines(content), None)


def _content(project: Path, path: str) -> bytes | None:
    full = project / path
    if full.is_symlink() or not full.is_file():
        return None
    return full.read_bytes()


def _marker_lines(content: bytes) -> Iterator[int]:
    if not any(marker in content for marker in _MARKERS):
        return
    for number, line in enumerate(content.split(b"\n"), start=1):
        if line.rstrip(b"\r").startswith(_MARKERS):
            yield number
