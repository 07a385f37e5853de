"""The values passed in and out of the regeneration merge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

from mcpgen.errors import Diagnostic
from mcpgen.files import RenderedFile

__all__ = ["Action", "FileChange", "MergeResult", "Rendered", "RenderedFile"]


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
]


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
