"""Where projects live and how mcpgen changes: a monorepo subfolder, a new template."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mcpgen import pipeline, render
from tests.regen.support import commit_all, git, init_repo, status
from tests.regen_e2e.support import PACKAGE, V1, V2, insert_after, mcpgen

TOOLS = f"{PACKAGE}/tools"
LOGO = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def test_project_in_a_monorepo_subfolder(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "mono")
    (repo / "specs").mkdir()
    shutil.copyfile(V1, repo / "specs/books.yaml")
    first = mcpgen("generate", "specs/books.yaml", "-o", "services/books-mcp", cwd=repo)
    assert first.code == 0, first.output
    project = repo / "services/books-mcp"
    inputs = json.loads((project / ".mcpgen/inputs.json").read_bytes())
    assert inputs["spec"] == "../../specs/books.yaml"
    commit_all(repo, "v1")
    category = project / TOOLS / "get_category.py"
    edit_line = "    category_id: int,\n"
    category.write_text(category.read_text().replace(edit_line, "    category_id: int,  # ours\n"))
    commit_all(repo, "hand edit")
    (repo / "NOTES.md").write_text("not committed, outside the project\n")
    (project / "NOTES.md").write_text("not committed, inside the project\n")
    shutil.copyfile(V2, repo / "specs/books.yaml")

    run = mcpgen("generate", ".", cwd=project)

    assert run.code == 1, run.output
    assert (
        ".: warning[uncommitted-changes]: uncommitted changes (1 path: services/books-mcp/NOTES.md)"
        in run.stderr
    )
    marker = category.read_text().splitlines().index("<<<<<<< ours (project)") + 1
    assert f"{TOOLS}/get_category.py (line {marker}): warning[merge-conflict]: " in run.stderr
    assert f"UU services/books-mcp/{TOOLS}/get_category.py" in status(repo)
    assert "?? NOTES.md" in status(repo)
    assert git(repo, "commit", "-m", "x", check=False).returncode != 0


def _template_v2(tmp_path: Path) -> Path:
    """mcpgen's template, changed: a new file, a dropped file, a changed tool template."""
    template = tmp_path / "template-v2"
    shutil.copytree(render.template_dir(), template)
    project = template / "project"
    (project / "Procfile.jinja").write_text("web: {{ project.script }} --transport http\n")
    (project / ".env.example.jinja").unlink()
    (project / "logo.png").write_bytes(LOGO)
    script = project / "scripts" / "serve.sh.jinja"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\nexec {{ project.script }} --transport http\n")
    script.chmod(0o755)
    tool_template = template / "partials" / "operation.py.jinja"
    end = "{% endmacro %}"
    text = tool_template.read_text()
    tool_template.write_text(text.replace(end, "\n# Checked by the new template.\n" + end))
    return template


def test_template_changing_between_runs(
    generated_v1: tuple[Path, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    shutil.copytree(generated_v1[0], work)
    project = init_repo(work / "books-mcp")
    strip = "    book_id = book_id.strip()\n"
    insert_after(project / TOOLS / "get_book.py", ") -> Reply:", strip)
    commit_all(project, "v1 with an edit")
    template = _template_v2(tmp_path)
    monkeypatch.setattr(render, "template_dir", lambda: template)

    outcome = pipeline.generate(project)

    actions = {change.path: change.action for change in outcome.merge.changes}
    assert actions["Procfile"] == "added"
    assert (project / "logo.png").read_bytes() == LOGO
    assert (project / "scripts/serve.sh").stat().st_mode & 0o111
    assert not (project / "Procfile").stat().st_mode & 0o111
    assert actions[".env.example"] == "deleted"
    assert actions[f"{TOOLS}/get_book.py"] == "merged"
    assert actions[f"{TOOLS}/list_books.py"] == "updated"
    assert outcome.merge.conflicts == ()
    get_book = (project / TOOLS / "get_book.py").read_text()
    assert strip in get_book
    assert get_book.endswith("# Checked by the new template.\n")
    assert (project / "Procfile").read_text() == "web: books-mcp --transport http\n"
    assert not outcome.agents.tools, "a template change alone changes no tool"
    assert status(project) == sorted(
        [" D .env.example", "?? Procfile", "?? logo.png", "?? scripts/serve.sh"]
        + [f" M {path}" for path, action in actions.items() if action in ("updated", "merged")]
        + [" M .mcpgen/base.json", " M .mcpgen/digests.json"]
    )
    commit_all(project, "template 2")
    again = pipeline.generate(project)
    assert not again.merge.wrote
    assert status(project) == []
