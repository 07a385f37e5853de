"""Stage 5: ruff owns whitespace and import order of the rendered Python."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .errors import McpgenError

__all__ = ["format_tree"]


def _ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "ruff", *args]
    try:
        return subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, check=False, timeout=600
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise McpgenError.single("ruff", f"could not run ruff: {exc}") from None


def format_tree(root: Path) -> None:
    """`ruff check --fix` then `ruff format`, with the project's own ruff settings.

    Lint findings that ruff cannot fix are a bug in mcpgen's templates, never the user's:
    they are reported with ruff's own output.
    """
    fixed = _ruff("check", "--fix", "--quiet", "--exit-zero", "--no-cache", ".", cwd=root)
    if fixed.returncode != 0:
        raise McpgenError.single(
            "ruff", f"ruff check failed on the rendered project:\n{fixed.stderr}"
        )
    formatted = _ruff("format", "--quiet", "--no-cache", ".", cwd=root)
    if formatted.returncode != 0:
        raise McpgenError.single(
            "ruff", f"ruff format failed on the rendered project:\n{formatted.stderr}"
        )
