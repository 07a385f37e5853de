"""Running `mcpgen generate DIR` again on any generated example changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mcpgen.pipeline import generate
from mcpgen.records import DIGESTS_PATH
from scripts.update_examples import ROOT
from tests.regen.support import snapshot

EXAMPLES = ROOT / "generated-examples"
PROJECTS = sorted(
    path.parent.parent.relative_to(EXAMPLES).as_posix()
    for path in EXAMPLES.rglob(".mcpgen/inputs.json")
)
_CACHES = shutil.ignore_patterns("__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache")


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`specs/` and `generated-examples/` side by side, as in the repository."""
    root = tmp_path_factory.mktemp("rerun")
    for folder in ("specs", "generated-examples"):
        shutil.copytree(ROOT / folder, root / folder, ignore=_CACHES)
    return root


def test_there_are_examples_to_rerun() -> None:
    names = {project.split("/")[0] for project in PROJECTS}
    assert {p.name for p in EXAMPLES.iterdir() if p.is_dir()} <= names, (
        "every example records its inputs"
    )


@pytest.mark.parametrize("project", PROJECTS)
def test_rerun_changes_nothing(copy: Path, project: str) -> None:
    directory = copy / "generated-examples" / project
    before = snapshot(directory)
    outcome = generate(directory)
    changed = [f"{c.action} {c.path}" for c in outcome.merge.changes]
    assert not outcome.merge.wrote, (
        f"re-running mcpgen generate changed generated-examples/{project}: {changed}; if the "
        f"examples are merely stale, the golden tests say so and how to refresh them"
    )
    assert snapshot(directory) == before
    assert not outcome.agents.tools


@pytest.mark.parametrize("project", PROJECTS)
def test_a_full_render_gives_the_same_project_and_records(copy: Path, project: str) -> None:
    """Without its digest record a re-run renders everything: the result is the same."""
    directory = copy / "generated-examples" / project
    record = directory / DIGESTS_PATH
    expected = record.read_bytes()
    before = snapshot(directory)
    record.unlink()
    outcome = generate(directory)
    assert outcome.generated is not None, "no record: everything is rendered"
    assert [c.action for c in outcome.merge.changes if c.action not in _REPORTED] == []
    assert record.read_bytes() == expected
    assert snapshot(directory) == before


_REPORTED = ("kept-edited", "kept-deleted")  # the walkthrough's edits, reported, not written
