"""generated-examples/ must be exactly what mcpgen generates today, and must pass its own checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scripts.update_examples import EXAMPLES, ROOT, generate_example
from tests.golden.compare import diff, files, run_own_checks

FIX = "python scripts/update_examples.py"


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_up_to_date(name: str, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "specs" / name, tmp_path / "specs" / name)
    fresh = files(generate_example(name, tmp_path))
    committed = files(ROOT / "generated-examples" / name)
    if committed != fresh:
        pytest.fail(
            f"generated-examples/{name} differs from a fresh generation:\n"
            f"{diff(f'generated-examples/{name}', committed, fresh)}\n\n"
            f"If the change is intended, refresh with: {FIX}"
        )


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_passes_its_own_checks(name: str, tmp_path: Path) -> None:
    """`pip install -e '.[dev]'` then `pytest && ruff check && mypy`, as the example's README
    says, in a venv of its own: a dependency the project forgets to declare fails here."""
    project = tmp_path / name
    shutil.copytree(ROOT / "generated-examples" / name, project)
    run_own_checks(project, tmp_path / "venv")
