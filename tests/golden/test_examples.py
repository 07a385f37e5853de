"""generated-examples/ must be exactly what mcpgen generates today, and must pass its own checks."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.update_examples import EXAMPLES, ROOT, generate_example

FIX = "python scripts/update_examples.py"


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".mypy_cache" not in p.parts
        and ".pytest_cache" not in p.parts
    }


def _diff(name: str, committed: dict[str, bytes], fresh: dict[str, bytes]) -> str:
    lines: list[str] = []
    for path in sorted(set(committed) | set(fresh)):
        old, new = committed.get(path), fresh.get(path)
        if old == new:
            continue
        if old is None or new is None:
            lines.append(f"{'only in a fresh generation' if old is None else 'only committed'}: {path}")
            continue
        lines.extend(
            difflib.unified_diff(
                old.decode(errors="replace").splitlines(),
                new.decode(errors="replace").splitlines(),
                f"generated-examples/{name}/{path}",
                f"fresh/{path}",
                lineterm="",
                n=2,
            )
        )
    return "\n".join(lines[:400])


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_up_to_date(name: str, tmp_path: Path) -> None:
    fresh_dir = tmp_path / name
    generate_example(name, fresh_dir)
    committed = _files(ROOT / "generated-examples" / name)
    fresh = _files(fresh_dir)
    if committed != fresh:
        pytest.fail(
            f"generated-examples/{name} differs from a fresh generation:\n"
            f"{_diff(name, committed, fresh)}\n\nIf the change is intended, refresh with: {FIX}"
        )


def _run(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src"), "MYPYPATH": str(cwd / "src")}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)} failed in {cwd}:\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_passes_its_own_checks(name: str) -> None:
    project = ROOT / "generated-examples" / name
    _run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], project)
    _run([sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."], project)
    _run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", os.devnull], project)
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], project)
