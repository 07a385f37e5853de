"""Merging a new rendering into the user's project (see docs: regeneration.md)."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from types import MappingProxyType

from mcpgen.errors import Diagnostic, Level, McpgenError
from mcpgen.records import BASE_PATH, Base, dump_base, file_stamp, load_base
from mcpgen.regen import gitops, transaction
from mcpgen.regen.decide import SIDECAR_SUFFIX, Decision, decide, decide_moved, decide_user_owned
from mcpgen.regen.lock import LOCK_PATH, check_unlocked, hold_lock
from mcpgen.regen.markers import first_marker_line, scan_markers
from mcpgen.regen.model import (
    MOVED_SUFFIX,
    FileChange,
    MergeResult,
    Move,
    MoveRule,
    Rendered,
    RenderedFile,
)
from mcpgen.regen.textutil import is_crlf

__all__ = [
    "apply",
    "base_files",
    "find_conflict_markers",
    "is_stale",
    "is_user_owned",
    "pending_moves",
]

_META_DIR = ".mcpgen"
_GITATTRIBUTES = ".gitattributes"
_ATTR_LINE = f"{BASE_PATH} linguist-generated=true -diff"
_NO_EXTRA: Mapping[str, bytes] = MappingProxyType({})
_RESERVED = (BASE_PATH, LOCK_PATH, transaction.TXN_DIR)


@dataclass(frozen=True)
class _Plan:
    ops: tuple[transaction.Op, ...]
    changes: tuple[FileChange, ...]
    stages: tuple[gitops.ConflictStages, ...]
    conflicts: tuple[Diagnostic, ...]


def apply(
    project: Path,
    rendered: Rendered,
    *,
    user_owned: Sequence[str] = (),
    dry_run: bool = False,
    extra_files: Mapping[str, bytes] = _NO_EXTRA,
    moves: MoveRule | None = None,
    base: Base | None = None,
) -> MergeResult:
    """Merge `rendered` into `project` like a careful `git merge`; see regeneration.md.

    `moves` names the files of an older layout whose edits are set aside rather than merged
    (see `Move`). `base`, when given, is the project's base as the caller loaded it
    (`load_base`): the merge uses it while base.json is still the file it was loaded from,
    and reads the file again when another run, or a recovery, replaced it since."""
    _check_rendered(rendered)
    _check_extra(extra_files)
    _check_is_project(project)
    patterns = tuple(sorted(set(user_owned)))
    run = partial(_run, project, rendered=rendered, patterns=patterns, extra_files=extra_files)
    if dry_run:
        if project.is_dir():
            check_unlocked(project)
            if transaction.is_pending(project):
                raise _interrupted(project)
        return run(_current_base(project, base), moves=moves, write=False)
    with _meta_dir(project), hold_lock(project):
        if transaction.recover(project):
            base = None
        return run(_current_base(project, base), moves=moves, write=True)


def is_user_owned(path: str, patterns: Sequence[str]) -> bool:
    """Whether `path` is a user-owned file: one of the template's `_skip_if_exists` globs."""
    return any(fnmatch.fnmatchcase(path, pattern) for pattern in patterns)


def base_files(rendered: Rendered, patterns: Sequence[str]) -> dict[str, RenderedFile]:
    """The files of `rendered` that the base records: all but the user-owned ones. The base
    a merge writes, and any digest of it taken before the merge, both come from here."""
    return {path: file for path, file in rendered.items() if not is_user_owned(path, patterns)}


def is_stale(project: Path, rendered: Rendered, *, base: Base | None = None) -> list[str]:
    """Why `project` is not what `rendered` would produce (compared with its base, so hand
    edits do not count); an empty list means up to date. Needs no git. `base`, when given, is
    the project's base already loaded."""
    reasons = interrupted_run(project)
    base = base or load_base(project)
    if base is None:
        return [*reasons, f"not generated (no {BASE_PATH})"]
    wanted = base_files(rendered, base.user_owned)
    for path in sorted(set(wanted) | set(base.files)):
        old, new = base.files.get(path), wanted.get(path)
        if old is None:
            reasons.append(f"would add {path}")
        elif new is None:
            reasons.append(f"would remove {path}")
        elif old.content != new.content:
            reasons.append(f"{path} would change")
        elif old.executable != new.executable:
            reasons.append(f"{path} would change (executable bit)")
    return reasons


def interrupted_run(project: Path) -> list[str]:
    """Why `project` is stale whatever is rendered: an interrupted run left its journal (the
    next run undoes it first). Empty when none did."""
    if transaction.is_pending(project):
        return [f"an interrupted run left {transaction.TXN_DIR}; run mcpgen generate again"]
    return []


def pending_moves(project: Path, *, base: Base | None = None) -> list[str]:
    """Files a layout change set aside (edits to port) that are still in the project."""
    base = base or load_base(project)
    return [path for path in base.moved if (project / path).exists()] if base else []


def find_conflict_markers(project: Path, *, base: Base | None = None) -> list[str]:
    """`path:line` of conflict markers a previous run left in files mcpgen manages."""
    base = base or load_base(project)
    if base is None:
        return []
    return scan_markers(project, [*base.files, *base.unresolved])


def _current_base(project: Path, loaded: Base | None) -> Base:
    """`loaded` while base.json is still the file it was loaded from, else the file now."""
    if (
        loaded is not None
        and loaded.stamp is not None
        and loaded.stamp == file_stamp(project / BASE_PATH)
    ):
        return loaded
    return load_base(project) or Base({})


def _run(
    project: Path,
    base: Base,
    rendered: Rendered,
    patterns: tuple[str, ...],
    extra_files: Mapping[str, bytes],
    moves: MoveRule | None,
    *,
    write: bool,
) -> MergeResult:
    read = _Reader(project)
    left = scan_markers(project, [*base.files, *rendered, *base.unresolved], read.content)
    if left:
        raise _conflicts_remain(project, left)
    repo = gitops.find_repo(project) if project.is_dir() else None
    warnings = _dirty_warning(repo)
    moved = {m.path: m for m in (moves(base.files) if moves else ())}
    plan = _plan(read, base, rendered, patterns, extra_files, moved)
    warnings += plan.conflicts
    conflicts = tuple(c.path for c in plan.changes if c.action == "conflict")
    if not write or not plan.ops:
        return MergeResult(plan.changes, conflicts, tuple(warnings), wrote=False)
    transaction.commit(project, plan.ops)
    if repo is not None and plan.stages:
        warnings += _record(repo, plan.stages)
    return MergeResult(plan.changes, conflicts, tuple(warnings), wrote=True)


def _plan(
    read: _Reader,
    base: Base,
    rendered: Rendered,
    patterns: tuple[str, ...],
    extra_files: Mapping[str, bytes],
    moves: Mapping[str, Move],
) -> _Plan:
    project = read.project
    decisions = _decide_all(read, base, rendered, patterns, moves)
    if _GITATTRIBUTES not in rendered:
        _mark_base_generated(read, decisions)
    generated = base_files(rendered, patterns)
    conflicted = [p for p, d in decisions.items() if d.change and d.change.action == "conflict"]
    unresolved = tuple(sorted(p for p in conflicted if p not in generated))
    aside = [p + MOVED_SUFFIX for p, d in decisions.items() if d.aside is not None]
    pending = [p for p in base.moved if p not in aside and (project / p).exists()]
    new_base = dump_base(Base(generated, unresolved, patterns, tuple(sorted(aside + pending))))
    meta = {**extra_files, BASE_PATH: new_base}
    ops = [*_file_ops(read, decisions), *_meta_ops(read, meta)]
    changes = [d.change for _, d in sorted(decisions.items()) if d.change is not None]
    stages = [d.stages for _, d in sorted(decisions.items()) if d.stages is not None]
    conflicts = _conflict_warnings(decisions)
    return _Plan(tuple(ops), tuple(changes), tuple(stages), tuple(conflicts))


def _conflict_warnings(decisions: Mapping[str, Decision]) -> list[Diagnostic]:
    """One warning per conflicted file, at its first conflict marker when it has one."""
    found = []
    for path, decision in sorted(decisions.items()):
        change = decision.change
        if change is None or change.action != "conflict":
            continue
        final = decision.final
        line = first_marker_line(final.content) if final is not None else None
        message = f"merge conflict: {change.detail}"
        found.append(_warning("merge-conflict", message, path, line))
    return found


def _warning(code: str, message: str, file: str = ".", line: int | None = None) -> Diagnostic:
    """A warning about `file`, relative to the project ("." for the project itself)."""
    return Diagnostic(Level.WARNING, code, message, file=file, line=line)


class _Reader:
    """The project's files as they were before this run, each read once."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self._files: dict[str, RenderedFile | McpgenError | None] = {}

    def __call__(self, path: str) -> RenderedFile | None:
        """The file at `path`; None when there is none; an error when it is not a file."""
        found = self._get(path)
        if isinstance(found, McpgenError):
            raise found.with_traceback(None)
        return found

    def content(self, path: str) -> bytes | None:
        """The bytes of the regular file at `path`; None when there is none, or it is not
        a regular file (as `scan_markers` reads it)."""
        found = self._get(path)
        return found.content if isinstance(found, RenderedFile) else None

    def _get(self, path: str) -> RenderedFile | McpgenError | None:
        if path not in self._files:
            try:
                self._files[path] = _read(self.project, path)
            except McpgenError as exc:  # raised when the file is used, not when scanned
                self._files[path] = exc
        return self._files[path]


def _decide_all(
    read: _Reader,
    base: Base,
    rendered: Rendered,
    patterns: tuple[str, ...],
    moves: Mapping[str, Move],
) -> dict[str, Decision]:
    decisions: dict[str, Decision] = {}
    for path in sorted(set(base.files) | set(rendered)):
        ours = read(path)
        before = base.files.get(path)
        if path in moves and before is not None and ours is not None and ours != before:
            decisions[path] = decide_moved(moves[path], before, rendered.get(path), ours)
        elif not is_user_owned(path, patterns):
            new = rendered.get(path)
            decisions[path] = decide(path, base.files.get(path), new, ours, gitops.merge_file)
        elif path in rendered:
            decisions[path] = decide_user_owned(path, rendered[path], ours)
    return decisions


def _mark_base_generated(read: _Reader, decisions: dict[str, Decision]) -> None:
    """Make `.gitattributes` hide base.json from diffs, unless the template owns that file."""
    earlier = decisions.get(_GITATTRIBUTES)
    current = earlier.final if earlier is not None else read(_GITATTRIBUTES)
    marked = _with_attr_line(current)
    if marked is None:
        return
    change = earlier.change if earlier is not None else None
    if change is None:
        detail = f"marks {BASE_PATH} as generated"
        change = FileChange(_GITATTRIBUTES, "updated" if current else "added", detail)
    stages = earlier.stages if earlier is not None else None
    decisions[_GITATTRIBUTES] = Decision(marked, change, stages=stages)


def _with_attr_line(current: RenderedFile | None) -> RenderedFile | None:
    if current is None:
        return RenderedFile(f"{_ATTR_LINE}\n".encode())
    text = current.content
    if any(line.split()[:1] == [BASE_PATH.encode()] for line in text.splitlines()):
        return None
    newline = b"\r\n" if is_crlf(text) else b"\n"
    separator = b"" if not text or text.endswith(b"\n") else newline
    return RenderedFile(text + separator + _ATTR_LINE.encode() + newline, current.executable)


def _file_ops(read: _Reader, decisions: Mapping[str, Decision]) -> list[transaction.Op]:
    ops: list[transaction.Op] = []
    for path, decision in sorted(decisions.items()):
        ops += _op_if_changed(read, path, decision.final)
        if decision.sidecar is not None:
            ops += _op_if_changed(read, path + SIDECAR_SUFFIX, decision.sidecar)
        if decision.aside is not None:
            ops += _op_if_changed(read, path + MOVED_SUFFIX, decision.aside)
    return ops


def _meta_ops(read: _Reader, meta: Mapping[str, bytes]) -> list[transaction.Op]:
    """Metadata is written as given, only when its bytes differ; base.json goes last."""
    order = sorted(meta, key=lambda path: (path == BASE_PATH, path))
    ops: list[transaction.Op] = []
    for path in order:
        current = read(path)
        if current is None or current.content != meta[path]:
            ops.append(transaction.Op(path, RenderedFile(meta[path])))
    return ops


def _op_if_changed(read: _Reader, path: str, final: RenderedFile | None) -> list[transaction.Op]:
    current = read(path)
    if final == current:
        return []
    if final is not None:
        _check_parents(read.project, path)
    return [transaction.Op(path, final)]


def _read(project: Path, path: str) -> RenderedFile | None:
    full = project / path
    if full.is_symlink():
        raise McpgenError.single(
            "not-a-file",
            f"{full} is a symbolic link; mcpgen manages {path} as a regular file",
            file=str(full),
        )
    if not full.exists():
        return None
    if not full.is_file():
        raise McpgenError.single(
            "not-a-file", f"{full} is not a regular file; mcpgen manages {path}", file=str(full)
        )
    return RenderedFile(full.read_bytes(), bool(full.stat().st_mode & 0o100))


def _check_parents(project: Path, path: str) -> None:
    for parent in reversed(PurePosixPath(path).parents):
        full = project / parent
        if str(parent) != "." and (full.is_symlink() or full.exists()) and not full.is_dir():
            raise McpgenError.single(
                "not-a-directory",
                f"{full} is a file, but mcpgen needs a directory there for {path}",
                file=str(full),
            )


def _dirty_warning(repo: gitops.Repo | None) -> list[Diagnostic]:
    if repo is None:
        return []
    try:
        dirty = gitops.dirty_paths(repo, ignore=(LOCK_PATH, transaction.TXN_DIR + "/"))
    except gitops.GitError as exc:
        message = f"could not ask git for uncommitted changes: {exc}"
        return [_warning("git-status", message)]
    if not dirty:
        return []
    shown = ", ".join(dirty[:5]) + (", …" if len(dirty) > 5 else "")
    message = (
        f"uncommitted changes ({len(dirty)} path{'' if len(dirty) == 1 else 's'}: {shown}); "
        "this run's changes will be mixed with them"
    )
    return [_warning("uncommitted-changes", message)]


def _record(repo: gitops.Repo, stages: Sequence[gitops.ConflictStages]) -> list[Diagnostic]:
    try:
        gitops.record_conflicts(repo, stages)
    except gitops.GitError as exc:
        message = f"could not record the conflicts in the git index ({exc}); resolve them by hand"
        return [_warning("git-index", message)]
    return []


@contextmanager
def _meta_dir(project: Path) -> Iterator[None]:
    """Create `.mcpgen/` (and the project) for the lock; remove what was created if the run
    fails before writing anything else into them."""
    meta = project / _META_DIR
    created = [d for d in (meta, project, *project.parents) if not d.exists()]
    meta.mkdir(parents=True, exist_ok=True)
    succeeded = False
    try:
        yield
        succeeded = True
    finally:
        if not succeeded:
            _remove_empty(created)


def _remove_empty(directories: Sequence[Path]) -> None:
    for directory in directories:
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()


def _check_is_project(project: Path) -> None:
    if not os.path.lexists(project):
        return
    if project.is_dir():
        if (project / BASE_PATH).exists() or transaction.is_pending(project):
            return
        if _only_leftovers(project):
            return
    raise McpgenError.single(
        "not-a-project",
        f"{project} exists and is not an mcpgen project; choose an empty directory",
        file=str(project),
    )


def _only_leftovers(project: Path) -> bool:
    """An empty directory, perhaps with `.git` or the lock of an interrupted first run."""
    names = {entry.name for entry in project.iterdir()}
    if not names <= {".git", _META_DIR}:
        return False
    meta = project / _META_DIR
    return not meta.exists() or {e.name for e in meta.iterdir()} <= {"lock", "txn"}


def _check_rendered(rendered: Rendered) -> None:
    for path in rendered:
        _check_relative(path)
        if path.split("/")[0] in (_META_DIR, ".git"):
            raise ValueError(f"rendered path {path!r} is inside {_META_DIR}/ or .git/")
    dirs = {str(parent) for path in rendered for parent in PurePosixPath(path).parents}
    clashes = sorted(dirs & set(rendered))
    if clashes:
        raise ValueError(f"rendered paths are both a file and a directory: {clashes}")


def _check_extra(extra_files: Mapping[str, bytes]) -> None:
    for path in extra_files:
        _check_relative(path)
        inside = path.startswith(_META_DIR + "/")
        if not inside or any(path == r or path.startswith(r + "/") for r in _RESERVED):
            raise ValueError(f"extra file {path!r} must be under {_META_DIR}/ and not reserved")


def _check_relative(path: str) -> None:
    parts = path.split("/")
    if not path or "\\" in path or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not a relative POSIX path inside the project: {path!r}")


def _conflicts_remain(project: Path, places: Sequence[str]) -> McpgenError:
    shown = "\n  ".join(places)
    return McpgenError.single(
        "conflicts-remain",
        f"{project} still has conflicts from the last run; resolve them (edit the file, "
        f"remove the markers; for a .mcpgen-new file keep one version and delete the other), "
        f"then run again:\n  {shown}",
        file=str(project),
    )


def _interrupted(project: Path) -> McpgenError:
    return McpgenError.single(
        "interrupted",
        f"an earlier run in {project} was interrupted; run mcpgen generate (not a dry run) "
        "to undo it first",
        file=str(project),
    )
