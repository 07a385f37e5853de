"""Driving the real `mcpgen` command and editing generated files like a user would."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpgen import cli

__all__ = [
    "DATA",
    "PACKAGE",
    "PROJECT",
    "SPEC",
    "V1",
    "V2",
    "Run",
    "edit",
    "insert_after",
    "mcpgen",
    "mcpgen_process",
    "use_spec",
]

DATA = Path(__file__).parent / "data"
V1 = DATA / "books-v1.yaml"
V2 = DATA / "books-v2.yaml"
SPEC = "specs/books.yaml"  # where the spec lives, relative to the work directory
PROJECT = "books-mcp"  # the project directory, relative to the work directory
PACKAGE = "src/books_mcp"


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}--- stderr\n{self.stderr}"

    def json(self) -> Any:
        return json.loads(self.stdout)


def mcpgen(*args: str, cwd: Path) -> Run:
    """`mcpgen ARGS` in `cwd`, in this process (the command's own `main`, exit code
    included) to spare the interpreter start-up; never a traceback."""
    stdout, stderr = io.StringIO(), io.StringIO()
    argv = ["mcpgen", *args]
    with (
        contextlib.chdir(cwd),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
        _argv(argv),
    ):
        try:
            cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:
            code = 0
    run = Run(code, stdout.getvalue(), stderr.getvalue())
    assert "Traceback" not in run.stdout + run.stderr, run.output
    return run


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved


def mcpgen_process(*args: str, cwd: Path) -> Run:
    """`mcpgen ARGS` in `cwd` as a separate process, exactly as a user runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "mcpgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    run = Run(done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr, run.output
    return run


def use_spec(work: Path, source: Path) -> None:
    """The API team publishes a new version: the spec file is replaced in place."""
    shutil.copyfile(source, work / SPEC)


def edit(path: Path, old: str, new: str) -> None:
    """Replace `old` (which must occur exactly once) by `new`."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def insert_after(path: Path, anchor: str, lines: str) -> None:
    """Insert `lines` after the line `anchor` (which must occur exactly once)."""
    edit(path, anchor + "\n", anchor + "\n" + lines)
