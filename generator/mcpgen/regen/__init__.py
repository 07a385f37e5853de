"""Regeneration: merge a new rendering into the user's project like a careful `git merge`.

The public surface is `apply`, `is_stale` and `find_conflict_markers`, with the value types
they take and return. See `regeneration.md` for the rules.
"""

from mcpgen.regen.engine import apply, find_conflict_markers, is_stale
from mcpgen.regen.model import Action, FileChange, MergeResult, Rendered, RenderedFile

__all__ = [
    "Action",
    "FileChange",
    "MergeResult",
    "Rendered",
    "RenderedFile",
    "apply",
    "find_conflict_markers",
    "is_stale",
]
