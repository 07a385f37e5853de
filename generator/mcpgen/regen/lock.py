"""`.mcpgen/lock`: one run at a time per project."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from mcpgen.errors import McpgenError

__all__ = ["LOCK_PATH", "check_unlocked", "hold_lock"]

LOCK_PATH = ".mcpgen/lock"


@contextmanager
def hold_lock(project: Path) -> Iterator[None]:
    """Hold the project's lock for the duration of the block; `.mcpgen/` must exist."""
    lock = project / LOCK_PATH
    if not _try_create(lock):
        holder = _holder(lock)
        if holder is None or _alive(holder) or not _take_over(lock, holder):
            raise _locked(lock, holder)
    try:
        yield
    finally:
        if _holder(lock) == os.getpid():
            lock.unlink()


def check_unlocked(project: Path) -> None:
    """Fail if a live run holds the lock (for dry runs, which take no lock)."""
    lock = project / LOCK_PATH
    if lock.exists():
        holder = _holder(lock)
        if holder is None or _alive(holder):
            raise _locked(lock, holder)


def _try_create(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(f"{os.getpid()}\n")
    return True


def _take_over(lock: Path, dead: int) -> bool:
    """Replace a lock whose holder is gone; False if another run got there first."""
    if _holder(lock) != dead:
        return False
    with suppress(FileNotFoundError):
        lock.unlink()
    return _try_create(lock)


def _holder(lock: Path) -> int | None:
    try:
        text = lock.read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def _alive(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":
        # On Windows os.kill would terminate the process; leave the decision to the user.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _locked(lock: Path, holder: int | None) -> McpgenError:
    who = f"pid {holder}" if holder is not None else "pid unknown"
    return McpgenError.single(
        "locked",
        f"another mcpgen run holds {lock} ({who}); if none is running, delete the file",
        file=str(lock),
    )
