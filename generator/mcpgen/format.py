"""Stage 5: ruff owns whitespace and import order of the rendered Python."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .errors import Diagnostic, Level, McpgenError

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

    Rendered code that ruff cannot parse or fix is a bug in mcpgen's templates, never the
    user's: it is reported with ruff's own messages, each naming the file and line.
    """
    fixed = _ruff(
        "check", "--fix", "--exit-zero", "--no-cache", "--output-format", "concise", ".", cwd=root
    )
    if fixed.returncode != 0 or _parse_errors(fixed.stdout):
        raise _failure("ruff check", fixed, root)
    formatted = _ruff("format", "--no-cache", ".", cwd=root)
    if formatted.returncode != 0:
        raise _failure("ruff format", formatted, root)


def _parse_errors(output: str) -> list[str]:
    """Lines of `ruff check --output-format concise` that report unparsable code."""
    return [line for line in output.splitlines() if ": invalid-syntax:" in line]


def _failure(step: str, done: subprocess.CompletedProcess[str], root: Path) -> McpgenError:
    """One diagnostic per message ruff printed, located at the rendered file and line."""
    text = "\n".join(part for part in (done.stdout, done.stderr) if part.strip())
    lines = _parse_errors(text) or [line for line in text.splitlines() if line.strip()]
    diagnostics = []
    for line in lines[:20] or [f"exit status {done.returncode}, no message"]:
        file, line_no, message = _locate(line)
        diagnostics.append(
            Diagnostic(
                Level.ERROR,
                "ruff",
                f"{step} failed on the rendered project (a bug in mcpgen's templates; please "
                f"report it with the spec): {message}",
                file=f"<rendered project>/{file}" if file else str(root),
                line=line_no,
            )
        )
    return McpgenError(diagnostics)


def _locate(line: str) -> tuple[str | None, int | None, str]:
    """`path:line:col: message` → (path, line, message); other lines stay whole."""
    line = line.removeprefix("error: Failed to parse ")
    parts = line.split(":", 3)
    if len(parts) == 4 and parts[1].strip().isdigit():
        return parts[0].strip(), int(parts[1]), f"{parts[3].strip()} (column {parts[2].strip()})"
    return None, None, line.strip()
