"""Re-runs that do only the work their inputs need (`.mcpgen/digests.json`).

A run whose inputs are unchanged renders nothing, yet reports edits and deletions exactly as
a full render does; a changed operation re-renders its own module; a record that no longer
agrees with the base is never trusted.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from mcpgen import pipeline, records, render
from mcpgen.files import RenderedFile
from mcpgen.ir import Project
from mcpgen.load import load_document
from mcpgen.records import BASE_PATH, DIGESTS_PATH, TOOLS_PATH
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
    trusted = mcpgen("check", str(work / PROJECT), "--json", cwd=work)
    assert trusted.json()["inputs_unchanged"] is True, trusted.output
    data = json.loads(digests.read_bytes())
    data["warnings"] = warnings
    digests.write_text(json.dumps(data))
    done = mcpgen("check", str(work / PROJECT), cwd=work)
    assert done.code == 0, done.output
    report = mcpgen("check", str(work / PROJECT), "--json", cwd=work)
    assert report.code == 0, report.output
    assert report.json()["inputs_unchanged"] is False, "the record was not used: a full run"


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


def test_a_spec_saved_again_during_a_run_is_not_taken_as_generated(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inputs digest is that of the bytes the output came from, not of the file after
    the run: a spec saved again while a run renders leaves the project stale."""
    spec = work / SPEC
    text = spec.read_text()
    assert text.count("summary: Get a book") == 1
    spec.write_text(text.replace("summary: Get a book", "summary: Fetch one book"))

    def load_then_save_again(*args: Any, **kwargs: Any) -> Any:
        loaded = load_document(*args, **kwargs)
        spec.write_text(text.replace("summary: Get a book", "summary: Look up one book"))
        return loaded

    monkeypatch.setattr(pipeline, "load_document", load_then_save_again)
    during = pipeline.generate(work / PROJECT)
    monkeypatch.undo()
    module = work / PROJECT / TOOLS / "get_book.py"
    assert during.generated is not None
    assert "Fetch one book" in module.read_text()

    checked = mcpgen("check", PROJECT, "--json", cwd=work)
    assert checked.code == 1, checked.output
    report = checked.json()
    assert report["inputs_unchanged"] is False
    assert f"{TOOLS}/get_book.py would change" in report["stale"]

    after = pipeline.generate(work / PROJECT)
    assert after.generated is not None, "the spec changed since the last generation"
    assert "Look up one book" in module.read_text()
    assert mcpgen("check", PROJECT, cwd=work).code == 0
    assert pipeline.generate(work / PROJECT).generated is None


_CATEGORY = """\
    Category:
      type: object
      required: [id, name]
      properties:
        id:
          type: integer
        name:
          type: string
"""


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[Path]]:
    """How often each file is opened (by `open`, and by `pathlib`, which calls `io.open`)."""
    counts: Counter[Path] = Counter()
    real = io.open

    def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | os.PathLike):
            counts[Path(os.fspath(file)).resolve()] += 1
        return real(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    yield counts


def test_each_input_file_is_read_once_a_run(
    work: Path, opened: Counter[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spec, the file its `$ref` names and the mapping are read once by every run (the
    digest check, the generation and its records share what was read); base.json is
    parsed once."""
    spec = work / SPEC
    text = spec.read_text()
    assert text.count(_CATEGORY) == 1
    ref = '    Category:\n      $ref: "category.yaml#/schemas/Category"\n'
    spec.write_text(text.replace(_CATEGORY, ref))
    category = work / "specs" / "category.yaml"
    category.write_text("schemas:\n" + _CATEGORY.replace("\n    ", "\n  ").removeprefix("  "))
    mapping = work / "mcpgen.yaml"
    mapping.write_text("server:\n  name: books\n")
    inputs = [spec.resolve(), category.resolve(), mapping.resolve()]
    loads: list[str] = []
    real_load = records._load

    def counting_load(project: Path, record: str) -> Any:
        loads.append(record)
        return real_load(project, record)

    monkeypatch.setattr(records, "_load", counting_load)

    def run(**given: Any) -> pipeline.Outcome:
        opened.clear()
        loads.clear()
        outcome = pipeline.generate(work / PROJECT, **given)
        assert [opened[path] for path in inputs] == [1, 1, 1], opened
        assert loads.count(BASE_PATH) == 1
        return outcome

    assert run(mapping=mapping).generated is not None  # a new mapping and a $ref: a full run
    assert run().generated is None  # unchanged: the digest check reads each input
    spec.write_text(spec.read_text().replace("summary: Get a book", "summary: Fetch one book"))
    changed = run()  # the digest check, then the generation, from the same reads
    assert changed.generated is not None
    assert "Fetch one book" in (work / PROJECT / TOOLS / "get_book.py").read_text()
    assert run().generated is None


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The records read from their files (`records._load`), in order."""
    found: list[str] = []
    real_load = records._load

    def counting_load(project: Path, record: str) -> Any:
        found.append(record)
        return real_load(project, record)

    monkeypatch.setattr(records, "_load", counting_load)
    return found


def test_a_check_with_unchanged_inputs_reads_no_user_owned_file_to_render(
    work: Path, opened: Counter[Path]
) -> None:
    project = (work / PROJECT).resolve()
    assert pipeline.check(project).generated is None
    assert opened[project / PACKAGE / "custom.py"] == 1, opened  # its imports are checked


def test_tools_json_is_parsed_from_the_bytes_the_digest_check_read(
    work: Path, loads: list[str]
) -> None:
    project = work / PROJECT
    assert pipeline.check(project).generated is None
    assert pipeline.generate(project).generated is None
    spec = work / SPEC
    spec.write_text(spec.read_text().replace("summary: Get a book", "summary: Fetch one book"))
    assert pipeline.check(project).generated is not None
    assert pipeline.generate(project).generated is not None
    assert loads.count(DIGESTS_PATH) == 4  # the runs did use the last generation
    assert TOOLS_PATH not in loads


def test_the_merge_reads_each_generated_file_once(work: Path, opened: Counter[Path]) -> None:
    """Its scan for conflict markers and its plan share one read of each file."""
    project = (work / PROJECT).resolve()
    assert pipeline.generate(project).generated is None
    generated = [
        path
        for path in opened
        if path.is_relative_to(project)
        and not path.is_relative_to(project / ".mcpgen")
        and path != project / PACKAGE / "custom.py"  # also the output, and its imports checked
    ]
    assert len(generated) > 20
    twice = {str(path.relative_to(project)) for path in generated if opened[path] > 1}
    assert twice == set()


def test_an_interrupted_run_is_reported_alike_with_or_without_a_render(work: Path) -> None:
    project = work / PROJECT
    txn = project / ".mcpgen" / "txn"
    txn.mkdir()
    (txn / "journal.json").write_text('{"created_dirs": [], "entries": []}')
    full_copy = work / "full"
    shutil.copytree(project, full_copy)
    (full_copy / DIGESTS_PATH).unlink()  # no record: everything is rendered

    quick = pipeline.check(project)
    full = pipeline.check(full_copy)

    assert quick.generated is None
    assert full.generated is not None
    reason = "an interrupted run left .mcpgen/txn; run mcpgen generate again"
    assert quick.stale[0] == full.stale[0] == reason


def test_the_recorded_name_is_foretold_as_the_run_will_clean_it(work: Path) -> None:
    """The digest check names the server by the rule the run uses (`chosen_name`), cleaned
    as translate cleans it: a recorded name spelt another way still means unchanged inputs."""
    record = work / PROJECT / ".mcpgen" / "inputs.json"
    data = json.loads(record.read_bytes())
    spelt = data["name"].upper()
    assert spelt != data["name"]
    record.write_text(json.dumps({**data, "name": spelt}))
    outcome = pipeline.generate(work / PROJECT)
    assert outcome.generated is None, "the same inputs: nothing to render"
    assert outcome.server.name == data["name"]
    assert json.loads(record.read_bytes())["name"] == data["name"]
