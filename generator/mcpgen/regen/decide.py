"""The per-path rules: given base (B), new render (T) and project file (O), what to do.

Pure apart from the injected text merge, so every rule can be read in one place.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, replace

from mcpgen.regen.gitops import ConflictStages
from mcpgen.regen.model import MOVED_SUFFIX, Action, FileChange, Move, RenderedFile
from mcpgen.regen.textutil import is_binary, is_crlf, to_crlf, to_lf

__all__ = [
    "SIDECAR_SUFFIX",
    "Decision",
    "Merge",
    "decide",
    "decide_moved",
    "decide_user_owned",
]

SIDECAR_SUFFIX = ".mcpgen-new"

Merge = Callable[[bytes, bytes, bytes], tuple[bytes, int]]
"""(ours, base, theirs) → (merged bytes, number of conflicts)."""


@dataclass(frozen=True)
class Decision:
    """The file's final state (None = absent), what to report, and any conflict bookkeeping."""

    final: RenderedFile | None
    change: FileChange | None = None
    sidecar: RenderedFile | None = None
    stages: ConflictStages | None = None
    aside: RenderedFile | None = None  # edits set aside, at path + MOVED_SUFFIX


@dataclass(frozen=True)
class _Sides:
    path: str
    base: RenderedFile | None
    new: RenderedFile | None
    ours: RenderedFile | None
    binary: bool


def decide_moved(
    move: Move, base: RenderedFile, new: RenderedFile | None, ours: RenderedFile
) -> Decision:
    """An edited file of an older layout: the new file (if any) takes its place, and the
    user's edits are set aside as a diff under the move's note."""
    diff = difflib.unified_diff(
        to_lf(base.content).decode("utf-8", errors="replace").splitlines(keepends=True),
        to_lf(ours.content).decode("utf-8", errors="replace").splitlines(keepends=True),
        f"{move.path} (as generated)",
        f"{move.path} (yours)",
    )
    body = "".join(line if line.endswith("\n") else line + "\n" for line in diff)
    aside = RenderedFile(f"{move.note}\n{body}".encode())
    detail = f"your edits are in {move.path}{MOVED_SUFFIX}: port them as it says, then delete it"
    return Decision(new, FileChange(move.path, "moved-aside", detail), aside=aside)


def decide_user_owned(path: str, new: RenderedFile, ours: RenderedFile | None) -> Decision:
    """User-owned files are created once and never touched again."""
    if ours is not None:
        return Decision(ours)
    detail = "yours from now on; mcpgen will not change it again"
    return Decision(new, FileChange(path, "created-user-owned", detail))


def decide(
    path: str,
    base: RenderedFile | None,
    new: RenderedFile | None,
    ours: RenderedFile | None,
    merge: Merge,
) -> Decision:
    """Apply the rules of regeneration.md to one path.

    When the project file uses CRLF and the generation LF, the rules run on the LF form
    and the result is written back with CRLF.
    """
    generated = [side.content for side in (base, new) if side is not None]
    crlf = (
        ours is not None
        and is_crlf(ours.content)
        and not any(b"\r\n" in content for content in generated)
        and not is_binary(ours.content)
    )
    lf_ours = RenderedFile(to_lf(ours.content), ours.executable) if crlf and ours else ours
    contents = [*generated, *([ours.content] if ours else [])]
    sides = _Sides(path, base, new, lf_ours, any(is_binary(c) for c in contents))
    decision = _decide_sides(sides, merge)
    if crlf and ours is not None:
        decision = _restore_crlf(decision, ours)
    return decision


def _decide_sides(sides: _Sides, merge: Merge) -> Decision:
    if sides.base is None and sides.new is None:
        return Decision(sides.ours)
    if sides.base is None:
        assert sides.new is not None
        return _added(sides, sides.new, merge)
    if sides.new is None:
        return _removed(sides, sides.base, merge)
    return _both(sides, sides.base, sides.new, merge)


def _added(sides: _Sides, new: RenderedFile, merge: Merge) -> Decision:
    """T only: a file new in this generation."""
    ours = sides.ours
    if ours is None:
        return Decision(new, FileChange(sides.path, "added"))
    executable = ours.executable or new.executable
    if ours.content == new.content:
        return _with_mode(sides, ours.content, executable, edited=False)
    stages = ConflictStages(sides.path, None, ours, new)
    what = "added by both the project and the generation, with different content"
    return _merge(
        sides, base=b"", new=new, executable=executable, stages=stages, what=what, merge=merge
    )


def _both(sides: _Sides, base: RenderedFile, new: RenderedFile, merge: Merge) -> Decision:
    """B and T: a file the last and the new generation both produce."""
    ours = sides.ours
    if ours is None:
        detail = "deleted in the project; left deleted"
        if new != base:
            detail += " (the new generation changed it)"
        return Decision(None, FileChange(sides.path, "kept-deleted", detail))
    executable = new.executable if ours.executable == base.executable else ours.executable
    if ours.content == new.content:
        return _with_mode(sides, ours.content, executable, edited=False)
    if ours.content == base.content:
        return Decision(RenderedFile(new.content, executable), FileChange(sides.path, "updated"))
    if new.content == base.content:
        return _with_mode(sides, ours.content, executable, edited=True)
    stages = ConflictStages(sides.path, base, ours, new)
    what = "edited in the project and changed by the new generation"
    return _merge(
        sides,
        base=base.content,
        new=new,
        executable=executable,
        stages=stages,
        what=what,
        merge=merge,
    )


def _removed(sides: _Sides, base: RenderedFile, merge: Merge) -> Decision:
    """B only: the new generation no longer produces this file."""
    ours = sides.ours
    if ours is None:
        return Decision(None)
    if ours.content == base.content:
        return Decision(None, FileChange(sides.path, "deleted", "no longer generated"))
    stages = ConflictStages(sides.path, base, ours, None)
    why = "no longer generated, but edited in the project"
    if sides.binary:
        change = FileChange(sides.path, "conflict", f"{why}; kept, delete it if unneeded")
        return Decision(ours, change, stages=stages)
    merged, _ = merge(ours.content, base.content, b"")
    change = FileChange(sides.path, "conflict", f"{why}; whole file marked")
    return Decision(RenderedFile(merged, ours.executable), change, stages=stages)


def _merge(
    sides: _Sides,
    *,
    base: bytes,
    new: RenderedFile,
    executable: bool,
    stages: ConflictStages,
    what: str,
    merge: Merge,
) -> Decision:
    ours = sides.ours
    assert ours is not None
    if sides.binary:
        detail = f"{what}; binary: kept yours, new generation in {sides.path}{SIDECAR_SUFFIX}"
        change = FileChange(sides.path, "conflict", detail)
        return Decision(RenderedFile(ours.content, executable), change, new, stages)
    merged, conflicts = merge(ours.content, base, new.content)
    final = RenderedFile(merged, executable)
    if conflicts == 0:
        return Decision(final, FileChange(sides.path, "merged", "your edits kept"))
    plural = "s" if conflicts > 1 else ""
    change = FileChange(sides.path, "conflict", f"{what}; {conflicts} conflict{plural} marked")
    return Decision(final, change, stages=stages)


def _with_mode(sides: _Sides, content: bytes, executable: bool, *, edited: bool) -> Decision:
    """Keep the project's content; report a change only if the executable bit moves."""
    ours = sides.ours
    assert ours is not None
    final = RenderedFile(content, executable)
    if executable != ours.executable:
        detail = f"executable bit {'set' if executable else 'cleared'}"
        action: Action = "merged" if edited else "updated"
        return Decision(final, FileChange(sides.path, action, detail))
    if edited:
        detail = "your edits kept; the generation did not change it"
        return Decision(final, FileChange(sides.path, "kept-edited", detail))
    return Decision(final)


def _restore_crlf(decision: Decision, ours: RenderedFile) -> Decision:
    """Map a decision made on the LF form back onto the project's CRLF file."""
    stages = decision.stages
    if stages is not None:
        stages = replace(stages, ours=ours)
    final = decision.final
    if final is not None:
        same = final.content == to_lf(ours.content)
        content = ours.content if same else to_crlf(final.content)
        final = RenderedFile(content, final.executable)
    return replace(decision, final=final, stages=stages)
