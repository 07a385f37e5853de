"""Regeneration: merge a new rendering into the user's project like a careful `git merge`.

The public surface is `apply`, `is_stale` and `find_conflict_markers`, with the value types
they take and return. See `regeneration.md` for the rules.
"""

from mcpgen.regen.engine import (
    apply,
    base_files,
    find_conflict_markers,
    interrupted_run,
    is_stale,
    is_user_owned,
    pending_moves,
)
from mcpgen.regen.model import (
    MOVED_SUFFIX,
    Action,
    FileChange,
    MergeResult,
    Move,
    MoveRule,
    Rendered,
    RenderedFile,
)

__all__ = [
    "MOVED_SUFFIX",
    "Action",
    "FileChange",
    "MergeResult",
    "Move",
    "MoveRule",
    "Rendered",
    "RenderedFile",
    "apply",
    "base_files",
    "find_conflict_markers",
    "interrupted_run",
    "is_stale",
    "is_user_owned",
    "pending_moves",
]
