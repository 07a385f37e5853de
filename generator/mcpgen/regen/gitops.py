"""The few git commands regeneration uses; every one works on a plain directory too."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mcpgen.errors import McpgenError
from mcpgen.regen.model import RenderedFile

__all__ = [
    "LABEL_BASE",
    "LABEL_OURS",
    "LABEL_THEIRS",
    "ConflictStages",
    "GitError",
    "Repo",
    "dirty_paths",
    "find_repo",
    "merge_file",
    "record_conflicts",
]

LABEL_OURS = "ours (project)"
LABEL_BASE = "base (last generation)"
LABEL_THEIRS = "theirs (new generation)"
_MAX_CONFLICTS = 127
_ZERO_SHA = "0" * 40


class GitError(Exception):
    """A git command failed; carries its stderr."""


@dataclass(frozen=True)
class Repo:
    """The work tree holding the project, and the project's path inside it (`""` or `a/b/`)."""

    top: Path
    prefix: str


@dataclass(frozen=True)
class ConflictStages:
    """The index stages for one conflicted path: 1 = base, 2 = ours, 3 = theirs."""

    path: str
    base: RenderedFile | None
    ours: RenderedFile | None
    theirs: RenderedFile | None


def merge_file(ours: bytes, base: bytes, theirs: bytes) -> tuple[bytes, int]:
    """Three-way text merge; returns the merged bytes and the number of conflicts."""
    git = _git_or_fail()
    with tempfile.TemporaryDirectory(prefix="mcpgen-merge-") as tmp:
        names = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            (Path(tmp) / name).write_bytes(data)
            names.append(name)
        args = [git, "-c", "merge.conflictStyle=merge", "merge-file", "-p"]
        for label in (LABEL_OURS, LABEL_BASE, LABEL_THEIRS):
            args += ["-L", label]
        done = subprocess.run([*args, *names], cwd=tmp, capture_output=True, check=False)
    if not 0 <= done.returncode <= _MAX_CONFLICTS:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise McpgenError.single("merge-failed", f"git merge-file failed: {message}")
    return done.stdout, done.returncode


def find_repo(project: Path) -> Repo | None:
    """The git work tree holding `project` (which must exist), or None without git or repo."""
    if shutil.which("git") is None:
        return None
    try:
        top = _git(project, "rev-parse", "--show-toplevel").decode().strip()
        prefix = _git(project, "rev-parse", "--show-prefix").decode().strip()
    except GitError:
        return None
    return Repo(Path(top), prefix)


def dirty_paths(repo: Repo, ignore: Sequence[str]) -> list[str]:
    """Paths under the project with uncommitted changes, except those starting with `ignore`.

    `--no-optional-locks` keeps `git status` from rewriting the index (dry runs write nothing).
    """
    spec = repo.prefix or "."
    args = ("--no-optional-locks", "status", "--porcelain=v1", "-z", "--untracked-files=all")
    out = _git(repo.top, *args, "--", spec)
    paths: list[str] = []
    entries = iter(out.decode("utf-8", "surrogateescape").split("\0"))
    for entry in entries:
        if not entry:
            continue
        status, path = entry[:2], entry[3:]
        if "R" in status or "C" in status:
            next(entries, None)
        local = path[len(repo.prefix) :]
        if not any(local.startswith(prefix) for prefix in ignore):
            paths.append(path)
    return sorted(paths)


def record_conflicts(repo: Repo, conflicts: Sequence[ConflictStages]) -> None:
    """Put each conflict into the index as unmerged stages, so `git status` and `git commit`
    see it. Raises GitError when git refuses."""
    records: list[str] = []
    for conflict in conflicts:
        path = repo.prefix + conflict.path
        records.append(f"0 {_ZERO_SHA}\t{path}")
        sides = (conflict.base, conflict.ours, conflict.theirs)
        for stage, side in enumerate(sides, start=1):
            if side is not None:
                sha = _hash_object(repo, path, side.content)
                mode = "100755" if side.executable else "100644"
                records.append(f"{mode} {sha} {stage}\t{path}")
    if records:
        data = "".join(record + "\0" for record in records).encode("utf-8", "surrogateescape")
        _git(repo.top, "update-index", "-z", "--index-info", stdin=data)


def _hash_object(repo: Repo, path: str, content: bytes) -> str:
    out = _git(repo.top, "hash-object", "-w", "--stdin", "--path", path, stdin=content)
    return out.decode().strip()


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    git = shutil.which("git")
    if git is None:
        raise GitError("git is not installed")
    done = subprocess.run(
        [git, "-C", str(cwd), *args], input=stdin, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise GitError(done.stderr.decode("utf-8", "replace").strip())
    return done.stdout


def _git_or_fail() -> str:
    git = shutil.which("git")
    if git is None:
        raise McpgenError.single(
            "git-missing",
            "merging hand edits with the new generation needs the git program; install git",
        )
    return git
