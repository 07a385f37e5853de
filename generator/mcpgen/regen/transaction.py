"""All-or-nothing writes into the project.

Every file that replaces another is first written under `.mcpgen/txn/new/`, then a journal
listing every change is written (atomically) to `.mcpgen/txn/journal.json`. Only then are files
moved into place with `Path.replace` (an atomic rename), each replaced or deleted file first
moved to `.mcpgen/txn/old/`; a file at a path where none was is written in place (undoing it
is deleting it, so it needs no staging: a first generation writes each file once). Deleting
the journal is the commit point.

- An exception while moving rolls every move back before it propagates.
- A killed process leaves the journal; the next run rolls back before doing anything
  (`recover`), so the project returns to its state before the interrupted run.
- Undoing a new file deletes it only when its bytes are still the ones the run wrote (the
  journal holds each new file's sha256): the run may have stopped before it reached that
  path, and a file saved there since is the user's. A new file the run fails to write (an
  exception) is deleted at once; one a killed run was writing is left in place, partly written.

Power loss is not covered: files are not fsynced (only the journal is).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from mcpgen.errors import McpgenError
from mcpgen.regen.model import RenderedFile

__all__ = ["TXN_DIR", "Op", "commit", "is_pending", "recover"]

TXN_DIR = ".mcpgen/txn"
_JOURNAL = "journal.json"


@dataclass(frozen=True)
class Op:
    """Write `new` at `path`, or delete the file when `new` is None."""

    path: str
    new: RenderedFile | None


@dataclass(frozen=True)
class _Entry:
    path: str
    staged: bool
    backup: bool
    sha256: str | None = None  # a new file (written where none was): its content's digest


def commit(project: Path, ops: Sequence[Op]) -> None:
    """Carry out `ops` completely, or (on an exception) not at all."""
    txn = project / TXN_DIR
    if txn.exists():
        shutil.rmtree(txn)
    committed = False
    try:
        (txn / "new").mkdir(parents=True)
        (txn / "old").mkdir()
        entries = [_prepare(project, txn, number, op) for number, op in enumerate(ops)]
        created = _missing_dirs(project, [op.path for op in ops if op.new is not None])
        _write_journal(txn, entries, created)
        _move_all(project, txn, entries, ops)
        _prune_dirs(project, [op.path for op in ops if op.new is None])
        (txn / _JOURNAL).unlink()
        committed = True
    finally:
        if not committed:
            recover(project)
    shutil.rmtree(txn)


def is_pending(project: Path) -> bool:
    """True when an interrupted run left a journal behind."""
    return (project / TXN_DIR / _JOURNAL).exists()


def recover(project: Path) -> bool:
    """Undo an interrupted commit, if there is one; returns whether there was."""
    txn = project / TXN_DIR
    if not (txn / _JOURNAL).exists():
        if txn.exists():
            shutil.rmtree(txn)
        return False
    entries, created = _read_journal(txn)
    for number in reversed(range(len(entries))):
        _undo(project, txn, number, entries[number])
    for directory in created:
        full = project / directory
        if full.is_dir() and not any(full.iterdir()):
            full.rmdir()
    (txn / _JOURNAL).unlink()
    shutil.rmtree(txn)
    return True


def _move(source: Path, target: Path) -> None:
    """One of the two primitives that change the project: one atomic rename."""
    source.replace(target)


def _create(target: Path, file: RenderedFile) -> None:
    """The other one: a new file where there was none."""
    _write_new(target, file, None)


def _prepare(project: Path, txn: Path, number: int, op: Op) -> _Entry:
    target = project / op.path
    exists = os.path.lexists(target)
    if op.new is None:
        return _Entry(op.path, staged=False, backup=exists)
    if exists:
        _write_new(txn / "new" / str(number), op.new, target)
        return _Entry(op.path, staged=True, backup=True)
    return _Entry(op.path, staged=True, backup=False, sha256=_sha256(op.new.content))


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _write_new(path: Path, file: RenderedFile, like: Path | None) -> None:
    """Create `path` (never overwrite) with the mode of `like`, or the default one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(file.content)
    mode = (like or path).stat().st_mode & 0o7777
    if file.executable:
        mode |= (mode & 0o444) >> 2
    else:
        mode &= ~0o111
    path.chmod(mode)


def _move_all(project: Path, txn: Path, entries: Sequence[_Entry], ops: Sequence[Op]) -> None:
    for number, (entry, op) in enumerate(zip(entries, ops, strict=True)):
        target = project / entry.path
        if entry.backup:
            _move(target, txn / "old" / str(number))
        if entry.staged:
            target.parent.mkdir(parents=True, exist_ok=True)
            if entry.backup:
                _move(txn / "new" / str(number), target)
            else:
                assert op.new is not None
                try:
                    _create(target, op.new)
                except FileExistsError:  # someone else's file, saved since: never ours
                    raise
                except BaseException:  # ours, partly written: its digest will not match
                    target.unlink(missing_ok=True)
                    raise


def _undo(project: Path, txn: Path, number: int, entry: _Entry) -> None:
    target = project / entry.path
    backup = txn / "old" / str(number)
    if entry.backup:
        if backup.exists() or backup.is_symlink():
            target.parent.mkdir(parents=True, exist_ok=True)
            backup.replace(target)
    elif entry.staged and _holds(target, entry.sha256):
        target.unlink()


def _holds(target: Path, sha256: str | None) -> bool:
    """Whether `target` is a regular file whose bytes have the digest `sha256` (the new file
    an interrupted run wrote there, not one saved since)."""
    if sha256 is None or target.is_symlink() or not target.is_file():
        return False
    return _sha256(target.read_bytes()) == sha256


def _missing_dirs(project: Path, paths: Iterable[str]) -> list[str]:
    """Directories the writes will create, deepest first."""
    missing = {
        str(parent)
        for path in paths
        for parent in PurePosixPath(path).parents
        if str(parent) != "." and not (project / parent).exists()
    }
    return sorted(missing, key=lambda item: (-item.count("/"), item))


def _prune_dirs(project: Path, deleted: Iterable[str]) -> None:
    """Remove directories left empty by deletions (never the project or `.mcpgen`)."""
    for directory in _parent_dirs(deleted):
        full = project / directory
        if full.is_dir() and not any(full.iterdir()):
            full.rmdir()


def _parent_dirs(paths: Iterable[str]) -> list[str]:
    parents = {
        str(parent)
        for path in paths
        for parent in PurePosixPath(path).parents
        if str(parent) not in (".", ".mcpgen")
    }
    return sorted(parents, key=lambda item: (-item.count("/"), item))


def _write_journal(txn: Path, entries: Sequence[_Entry], created: Sequence[str]) -> None:
    data = {
        "created_dirs": list(created),
        "entries": [
            {
                "backup": entry.backup,
                "path": entry.path,
                "sha256": entry.sha256,
                "staged": entry.staged,
            }
            for entry in entries
        ],
    }
    partial = txn / (_JOURNAL + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(txn / _JOURNAL)


def _read_journal(txn: Path) -> tuple[list[_Entry], list[str]]:
    journal = txn / _JOURNAL
    try:
        data: Any = json.loads(journal.read_text(encoding="utf-8"))
        entries = [
            _Entry(
                str(item["path"]),
                bool(item["staged"]),
                bool(item["backup"]),
                _digest_field(item.get("sha256")),
            )
            for item in data["entries"]
        ]
        created = [str(item) for item in data["created_dirs"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise McpgenError.single(
            "bad-journal",
            f"cannot undo the interrupted run recorded in {journal} ({exc}); "
            "restore the project from version control and delete .mcpgen/txn",
            file=str(journal),
        ) from None
    return entries, created


def _digest_field(value: object) -> str | None:
    """A journal entry's digest: a string, or absent (then the new file is left in place)."""
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"sha256 is {type(value).__name__}, not a string")
