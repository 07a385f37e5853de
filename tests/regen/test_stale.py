"""`is_stale` compares a fresh render with the committed base, never with hand edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpgen.regen import RenderedFile, apply, find_conflict_markers, is_stale
from tests.regen.support import USER_OWNED, render, text

OPS = {"get_book": "Fetch one book.", "list_books": "List the books."}


def test_a_directory_never_generated_is_stale(tmp_path: Path) -> None:
    assert is_stale(tmp_path, render(OPS)) == ["not generated (no .mcpgen/base.json)"]
    assert find_conflict_markers(tmp_path) == []


def test_fresh_project_with_hand_edits_is_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS), user_owned=USER_OWNED)
    (project / "README.md").write_text("my own readme\n")
    (project / "Dockerfile").unlink()
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    rendered = render(OPS)
    rendered["src/books/custom.py"] = text("# a newer stub for user code\n")
    assert is_stale(project, rendered) == []


def test_reasons_name_each_path(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS), user_owned=USER_OWNED)
    rendered = render({"get_book": "Fetch a book by id.", "add_book": "Add a book."})
    rendered["scripts/run.sh"] = RenderedFile(rendered["scripts/run.sh"].content)
    assert is_stale(project, rendered) == [
        "scripts/run.sh would change (executable bit)",
        "src/books/server.py would change",
        "would add src/books/tools/add_book.py",
        "src/books/tools/get_book.py would change",
        "would remove src/books/tools/list_books.py",
    ]
