"""generated-examples/walkthrough/ must be exactly what its script builds today."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts.update_walkthrough import SPECS, WALKTHROUGH, regenerate
from tests.golden.compare import diff, files, run_own_checks

FIX = "python scripts/update_walkthrough.py"


def test_walkthrough_is_up_to_date(tmp_path: Path) -> None:
    fresh_dir = tmp_path / "walkthrough"
    for spec in SPECS:
        (fresh_dir / spec).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(WALKTHROUGH / spec, fresh_dir / spec)
    regenerate(fresh_dir)
    committed, fresh = files(WALKTHROUGH), files(fresh_dir)
    if committed != fresh:
        pytest.fail(
            "generated-examples/walkthrough differs from a fresh generation:\n"
            f"{diff('generated-examples/walkthrough', committed, fresh)}\n\n"
            f"If the change is intended, refresh with: {FIX}"
        )


def test_merged_project_keeps_the_edits_and_passes_its_own_checks(tmp_path: Path) -> None:
    merged = tmp_path / "project"
    shutil.copytree(WALKTHROUGH / "merged/project", merged)
    custom = (merged / "src/bookshop_mcp/custom.py").read_text()
    assert "if reply.status == 404:" in custom
    list_books = (merged / "src/bookshop_mcp/tools/list_books.py").read_text()
    assert "limit = 50" in list_books and 'Query("sort", sort)' in list_books
    assert not (merged / "src/bookshop_mcp/tools/delete_book.py").exists()
    run_own_checks(merged, tmp_path / "venv")
