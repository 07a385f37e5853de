"""The values passed in and out of the regeneration merge."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

from mcpgen.errors import Diagnostic
from mcpgen.files import RenderedFile

__all__ = [
    "MOVED_SUFFIX",
    "Action",
    "FileChange",
    "MergeResult",
    "Move",
    "MoveRule",
    "Rendered",
    "RenderedFile",
]


Rendered: TypeAlias = Mapping[str, RenderedFile]
"""A rendered tree: POSIX relative path inside the project → file."""

Action: TypeAlias = Literal[
    "added",
    "updated",
    "merged",
    "conflict",
    "deleted",
    "kept-deleted",
    "kept-edited",
    "unchanged",
    "created-user-owned",
    "moved-aside",
]

MOVED_SUFFIX = ".mcpgen-moved"


@dataclass(frozen=True)
class Move:
    """A file of an older layout whose code now lives elsewhere. If the user edited it, the
    edits are set aside in `path + MOVED_SUFFIX`, under `note`, instead of being merged into
    the file that takes its place."""

    path: str
    note: str


MoveRule: TypeAlias = Callable[[Iterable[str]], Sequence[Move]]
"""The moves that apply to a project, given the paths its last generation produced."""


@dataclass(frozen=True)
class FileChange:
    """What a run did (or, for a dry run, would do) to one project file."""

    path: str
    action: Action
    detail: str = ""


@dataclass(frozen=True)
class MergeResult:
    """The outcome of one run; `changes` is sorted by path and omits unchanged files.
    `warnings`: a dirty work tree, git trouble, and one per conflicted file (at its first
    marker); their `file` is relative to the project, "." for the project itself."""

    changes: tuple[FileChange, ...]
    conflicts: tuple[str, ...]
    warnings: tuple[Diagnostic, ...]
    wrote: bool
