"""Comparing a fresh generation with the committed one, and running a project's own checks."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["diff", "files", "run_own_checks"]

_BASE = ".mcpgen/base.json"
_CACHES = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}


def files(root: Path) -> dict[str, bytes]:
    """Every file under `root` (caches left out), by POSIX path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not _CACHES & set(p.relative_to(root).parts)
    }


def diff(label: str, committed: dict[str, bytes], fresh: dict[str, bytes]) -> str:
    """A readable difference, at most 400 lines: `label` names the committed side."""
    lines: list[str] = []
    for path in sorted(set(committed) | set(fresh)):
        old, new = committed.get(path), fresh.get(path)
        if old == new:
            continue
        if old is None or new is None:
            where = "only in a fresh generation" if old is None else "only committed"
            lines.append(f"{where}: {path}")
            continue
        if path.endswith(_BASE):  # one JSON line per file: its diff is unreadable
            lines.append(f"differs: {path} (the record of the generation shown by the other diffs)")
            continue
        lines.extend(
            difflib.unified_diff(
                old.decode(errors="replace").splitlines(),
                new.decode(errors="replace").splitlines(),
                f"{label}/{path}",
                f"fresh/{path}",
                lineterm="",
                n=2,
            )
        )
    return "\n".join(lines[:400])


def _run(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src"), "MYPYPATH": str(cwd / "src")}
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)} failed in {cwd}:\n{done.stdout}\n{done.stderr}"


def run_own_checks(project: Path) -> None:
    """The generated project's own checks: ruff, mypy --strict, its tests."""
    _run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], project)
    _run([sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."], project)
    _run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", os.devnull], project)
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], project)
