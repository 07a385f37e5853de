"""Re-runs that do only the work their inputs need (`.mcpgen/digests.json`).

A run whose inputs are unchanged renders nothing, yet reports edits and deletions exactly as
a full render does; a changed operation re-renders its own module; a record that no longer
agrees with the base is never trusted.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from mcpgen import pipeline, render
from mcpgen.files import RenderedFile
from mcpgen.ir import Project
from mcpgen.records import DIGESTS_PATH
from mcpgen.render import Models, Tree
from tests.regen_e2e.support import PACKAGE, PROJECT, SPEC, insert_after, mcpgen

TOOLS = f"{PACKAGE}/tools"


def _edit_and_delete(project: Path) -> None:
    insert_after(project / TOOLS / "get_book.py", ") -> Reply:", "    assert book_id\n")
    (project / TOOLS / "delete_book.py").unlink()


def _changes(outcome: pipeline.Outcome) -> list[tuple[str, str, str]]:
    return [(c.path, c.action, c.detail) for c in outcome.merge.changes]


def test_unchanged_inputs_render_nothing_and_report_like_a_full_render(work: Path) -> None:
    project = work / PROJECT
    _edit_and_delete(project)
    full_copy = work / "full"
    shutil.copytree(project, full_copy)
    (full_copy / DIGESTS_PATH).unlink()  # no record: everything is rendered

    quick = pipeline.generate(project)
    full = pipeline.generate(full_copy)

    assert quick.generated is None, "the inputs are unchanged: nothing is loaded or rendered"
    assert full.generated is not None
    assert _changes(quick) == _changes(full)
    assert (f"{TOOLS}/delete_book.py", "kept-deleted") in {c[:2] for c in _changes(quick)}
    assert (f"{TOOLS}/get_book.py", "kept-edited") in {c[:2] for c in _changes(quick)}
    assert not quick.merge.wrote
    assert [d.render() for d in quick.diagnostics] == [d.render() for d in full.diagnostics]
    assert (full_copy / DIGESTS_PATH).read_bytes() == (project / DIGESTS_PATH).read_bytes()


def test_check_with_unchanged_inputs_reports_what_a_full_check_reports(work: Path) -> None:
    _edit_and_delete(work / PROJECT)
    quick = mcpgen("check", PROJECT, "--json", cwd=work)
    (work / PROJECT / DIGESTS_PATH).unlink()
    full = mcpgen("check", PROJECT, "--json", cwd=work)
    assert (quick.code, full.code) == (0, 0), quick.output + full.output
    quick_report, full_report = quick.json(), full.json()
    assert quick_report.pop("inputs_unchanged") is True
    assert full_report.pop("inputs_unchanged") is False
    assert quick_report == full_report
    assert quick.stderr == full.stderr


def test_a_deleted_user_owned_file_is_created_again(work: Path) -> None:
    custom = work / PROJECT / PACKAGE / "custom.py"
    original = custom.read_bytes()
    custom.unlink()
    outcome = pipeline.generate(work / PROJECT)
    assert outcome.generated is not None, "only a render has the file's content"
    assert custom.read_bytes() == original


def test_a_base_that_disagrees_with_its_record_is_not_trusted(work: Path) -> None:
    base = work / PROJECT / ".mcpgen" / "base.json"
    data = json.loads(base.read_bytes())
    path = f"{TOOLS}/get_book.py"
    data["files"][path]["text"] += "# edited in the base by hand\n"
    base.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    outcome = pipeline.generate(work / PROJECT)
    assert outcome.generated is not None
    assert "# edited in the base by hand" not in (work / PROJECT / path).read_text()


@pytest.mark.parametrize("warnings", [None, 3, "x"])
def test_an_unusable_digests_record_means_a_full_run(work: Path, warnings: object) -> None:
    digests = work / PROJECT / DIGESTS_PATH
    data = json.loads(digests.read_bytes())
    data["warnings"] = warnings
    digests.write_text(json.dumps(data))
    done = mcpgen("check", str(work / PROJECT), cwd=work)
    assert done.code == 0, done.output


def test_a_changed_operation_renders_its_own_module_only(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reused: list[str] = []
    real = render.render_tree

    def spy(project: Project, models: Models, reuse: Mapping[str, RenderedFile]) -> Tree:
        reused.extend(reuse)
        return real(project, models, reuse)

    monkeypatch.setattr(pipeline, "render_tree", spy)
    spec = work / SPEC
    text = spec.read_text()
    assert text.count("summary: Get a book") == 1
    spec.write_text(text.replace("summary: Get a book", "summary: Fetch one book"))

    outcome = pipeline.generate(work / PROJECT)

    assert outcome.generated is not None
    modules = {p for p in outcome.generated.sources if p.startswith(f"{TOOLS}/")}
    assert set(reused) == (modules - {f"{TOOLS}/get_book.py"}) | {f"{PACKAGE}/models.py"}
    # the module, and the listing that carries its tool (what tools/list sends)
    assert [c.path for c in outcome.merge.changes if c.action == "updated"] == [
        f"{TOOLS}/get_book.py",
        f"{TOOLS}/listing.json",
    ]
    assert "Fetch one book" in (work / PROJECT / TOOLS / "get_book.py").read_text()
    again = pipeline.generate(work / PROJECT)
    assert again.generated is None and not again.merge.wrote


def test_a_new_template_renders_everything(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    template = work / "template"
    shutil.copytree(render.template_dir(), template)
    readme = template / "project" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nOne more line.\n")
    monkeypatch.setattr(render, "template_dir", lambda: template)
    outcome = pipeline.generate(work / PROJECT)
    assert outcome.generated is not None
    assert (work / PROJECT / "README.md").read_text().endswith("One more line.\n")
