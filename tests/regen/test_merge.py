"""The merge rules of regeneration.md, driven through `apply` on real files and real git."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcpgen.errors import McpgenError
from mcpgen.records import load_base
from mcpgen.regen import MergeResult, apply, engine, find_conflict_markers, is_stale
from tests.regen.support import (
    USER_OWNED,
    commit_all,
    git,
    init_repo,
    render,
    snapshot,
    status,
    text,
    tool_file,
)

OPS = {"get_book": "Fetch one book.", "list_books": "List the books."}
TOOL = "src/books/tools/get_book.py"


def actions(result: MergeResult) -> dict[str, str]:
    return {change.path: change.action for change in result.changes}


def generated_repo(tmp_path: Path, ops: dict[str, str] = OPS) -> Path:
    """A git repo holding a committed first generation."""
    project = init_repo(tmp_path / "books")
    apply(project, render(ops), user_owned=USER_OWNED)
    commit_all(project, "generate")
    return project


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text()
    assert old in content
    path.write_text(content.replace(old, new))


def test_first_run_adds_every_file(tmp_path: Path) -> None:
    project = tmp_path / "new" / "books"
    rendered = render(OPS)
    result = apply(project, rendered, user_owned=USER_OWNED)
    assert result.wrote
    assert result.conflicts == ()
    assert actions(result) == {
        ".gitattributes": "added",
        "Dockerfile": "added",
        "Makefile": "added",
        "README.md": "added",
        "scripts/run.sh": "added",
        "src/books/custom.py": "created-user-owned",
        "src/books/server.py": "added",
        "src/books/tools/get_book.py": "added",
        "src/books/tools/list_books.py": "added",
    }
    for path, file in rendered.items():
        assert (project / path).read_bytes() == file.content
    base = json.loads((project / ".mcpgen/base.json").read_text())
    assert sorted(base["files"]) == sorted(p for p in rendered if p != "src/books/custom.py")
    attributes = (project / ".gitattributes").read_text()
    assert attributes == ".mcpgen/base.json linguist-generated=true -diff\n"
    assert sorted(p.name for p in (project / ".mcpgen").iterdir()) == ["base.json"]
    assert is_stale(project, rendered) == []


def test_refuses_a_directory_that_is_not_a_project(tmp_path: Path) -> None:
    project = tmp_path / "books"
    project.mkdir()
    (project / "notes.txt").write_text("mine\n")
    with pytest.raises(McpgenError) as caught:
        apply(project, render(OPS))
    assert caught.value.diagnostics[0].code == "not-a-project"
    assert "choose an empty directory" in str(caught.value)
    assert snapshot(project) == {"notes.txt": (b"mine\n", 0o644)}


def test_empty_directory_with_git_is_accepted(tmp_path: Path) -> None:
    project = init_repo(tmp_path / "books")
    result = apply(project, render(OPS))
    assert set(actions(result).values()) == {"added"}


def test_clean_hand_edit_merges_with_generation_change(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    edit(project / TOOL, "    query = {}\n", '    query = {"expand": "author"}\n')
    commit_all(project, "hand edit")
    result = apply(project, render({**OPS, "get_book": "Fetch a book by id."}))
    assert actions(result)[TOOL] == "merged"
    merged = (project / TOOL).read_text()
    assert '    query = {"expand": "author"}\n' in merged
    assert '    """Fetch a book by id."""\n' in merged
    assert "<<<<<<<" not in merged
    assert result.conflicts == ()
    assert status(project) == [" M .mcpgen/base.json", f" M {TOOL}"]


def test_clashing_edit_is_marked_and_blocks_a_plain_commit(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    edit(project / TOOL, '"""Fetch one book."""', '"""Fetch one book (cached)."""')
    commit_all(project, "hand edit")
    result = apply(project, render({**OPS, "get_book": "Fetch a book by id."}))
    assert result.conflicts == (TOOL,)
    assert actions(result)[TOOL] == "conflict"
    content = (project / TOOL).read_text()
    assert (
        "<<<<<<< ours (project)\n"
        '    """Fetch one book (cached)."""\n'
        "=======\n"
        '    """Fetch a book by id."""\n'
        ">>>>>>> theirs (new generation)\n"
    ) in content
    assert f"UU {TOOL}" in status(project)
    refused = git(project, "commit", "-m", "try", check=False)
    assert refused.returncode != 0
    assert "unmerged" in refused.stderr + refused.stdout
    assert find_conflict_markers(project) == [f"{TOOL}:9", f"{TOOL}:13"]


def test_run_refused_while_markers_remain_then_resumes(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    edit(project / TOOL, '"""Fetch one book."""', '"""Fetch one book (cached)."""')
    new = render({**OPS, "get_book": "Fetch a book by id."})
    apply(project, new)
    before = snapshot(project)
    with pytest.raises(McpgenError) as caught:
        apply(project, new)
    assert caught.value.diagnostics[0].code == "conflicts-remain"
    assert f"{TOOL}:9" in str(caught.value)
    assert snapshot(project) == before
    (project / TOOL).write_text(tool_file("get_book", description="Fetch a book, cached."))
    git(project, "add", TOOL)
    result = apply(project, new)
    assert result.conflicts == ()
    assert not result.wrote
    assert actions(result) == {TOOL: "kept-edited"}


def test_edited_dockerfile_is_merged(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    edit(project / "Dockerfile", "WORKDIR /app\n", "WORKDIR /app\nRUN apt-get install -y curl\n")
    commit_all(project, "curl")
    result = apply(project, render(OPS, python="3.13"))
    assert actions(result)["Dockerfile"] == "merged"
    assert (project / "Dockerfile").read_text().splitlines()[:3] == [
        "FROM python:3.13-slim",
        "WORKDIR /app",
        "RUN apt-get install -y curl",
    ]


def test_removed_operation_without_edits_is_deleted(tmp_path: Path) -> None:
    project = generated_repo(tmp_path, {**OPS, "delete_book": "Delete a book."})
    result = apply(project, render(OPS))
    assert actions(result)["src/books/tools/delete_book.py"] == "deleted"
    assert not (project / "src/books/tools/delete_book.py").exists()
    assert (project / "src/books/tools").is_dir()
    assert result.conflicts == ()


def test_removing_the_last_file_of_a_directory_removes_the_directory(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    rendered = render(OPS)
    del rendered["scripts/run.sh"]
    result = apply(project, rendered)
    assert actions(result)["scripts/run.sh"] == "deleted"
    assert not (project / "scripts").exists()


def test_removed_operation_with_edits_is_kept_with_whole_file_markers(tmp_path: Path) -> None:
    project = generated_repo(tmp_path, {**OPS, "delete_book": "Delete a book."})
    removed = project / "src/books/tools/delete_book.py"
    edit(removed, "    query = {}\n", '    query = {"soft": "true"}\n')
    edited = removed.read_text()
    commit_all(project, "soft delete")
    result = apply(project, render(OPS))
    path = "src/books/tools/delete_book.py"
    assert actions(result)[path] == "conflict"
    assert result.conflicts == (path,)
    content = removed.read_text()
    assert content == f"<<<<<<< ours (project)\n{edited}=======\n>>>>>>> theirs (new generation)\n"
    assert f"UD {path}" in status(project)
    base = json.loads((project / ".mcpgen/base.json").read_text())
    assert path not in base["files"]
    assert base["unresolved"] == [path]
    assert find_conflict_markers(project) == [f"{path}:1", f"{path}:15"]
    removed.unlink()
    git(project, "rm", "-q", "--cached", path)
    result = apply(project, render(OPS))
    assert "unresolved" not in json.loads((project / ".mcpgen/base.json").read_text())


def test_file_deleted_by_user_stays_deleted(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    (project / "README.md").unlink()
    (project / "src/books/tools/list_books.py").unlink()
    commit_all(project, "delete")
    result = apply(project, render({**OPS, "list_books": "List all books."}))
    assert actions(result)["README.md"] == "kept-deleted"
    change = {c.path: c for c in result.changes}["src/books/tools/list_books.py"]
    assert change.action == "kept-deleted"
    assert "the new generation changed it" in change.detail
    assert not (project / "README.md").exists()
    assert not (project / "src/books/tools/list_books.py").exists()


def test_new_operation_is_added(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    result = apply(project, render({**OPS, "add_book": "Add a book."}))
    assert actions(result)["src/books/tools/add_book.py"] == "added"
    assert actions(result)["src/books/server.py"] == "updated"
    content = (project / "src/books/tools/add_book.py").read_text()
    assert content == tool_file("add_book", description="Add a book.")


def test_file_added_by_both_differently_is_a_both_added_conflict(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    mine = project / "src/books/tools/add_book.py"
    mine.write_text("def add_book() -> None:\n    raise NotImplementedError\n")
    commit_all(project, "my add_book")
    result = apply(project, render({**OPS, "add_book": "Add a book."}))
    assert result.conflicts == ("src/books/tools/add_book.py",)
    content = mine.read_text()
    assert "<<<<<<< ours (project)\n" in content
    assert "raise NotImplementedError" in content
    assert '"""Add a book."""' in content
    assert "AA src/books/tools/add_book.py" in status(project)


def test_identical_file_added_by_both_is_quietly_adopted(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    new = render({**OPS, "add_book": "Add a book."})
    (project / "src/books/tools/add_book.py").write_bytes(
        new["src/books/tools/add_book.py"].content
    )
    result = apply(project, new)
    assert "src/books/tools/add_book.py" not in actions(result)
    assert is_stale(project, new) == []


def test_user_owned_file_is_created_once_and_never_touched(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    custom = project / "src/books/custom.py"
    custom.write_text("HOOKS = []\n")
    rendered = render(OPS)
    rendered["src/books/custom.py"] = text('"""A newer stub."""\n')
    result = apply(project, rendered, user_owned=USER_OWNED)
    assert "src/books/custom.py" not in actions(result)
    assert custom.read_text() == "HOOKS = []\n"
    custom.unlink()
    result = apply(project, rendered, user_owned=USER_OWNED)
    assert actions(result) == {"src/books/custom.py": "created-user-owned"}
    assert custom.read_text() == '"""A newer stub."""\n'
    assert is_stale(project, rendered) == []


def test_template_change_between_runs_keeps_hand_edits(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    edit(project / TOOL, "    query = {}\n", '    query = {"expand": "author"}\n')
    edit(project / "Makefile", "run:\n", "run: lint\n")
    commit_all(project, "edits")
    result = apply(project, render(OPS, version=2), user_owned=USER_OWNED)
    assert actions(result) == {
        "Makefile": "conflict",
        "src/books/py.typed": "added",
        "src/books/tools/get_book.py": "merged",
        "src/books/tools/list_books.py": "updated",
    }
    merged = (project / TOOL).read_text()
    assert merged.startswith('"""Generated by mcpgen (template 2).')
    assert '    query = {"expand": "author"}\n' in merged
    assert (project / "src/books/tools/list_books.py").read_text() == tool_file(
        "list_books", description="List the books.", version=2
    )


def test_gitattributes_from_the_template_is_an_ordinary_file(tmp_path: Path) -> None:
    project = tmp_path / "books"
    rendered = {**render(OPS), ".gitattributes": text("*.py text eol=lf\n")}
    apply(project, rendered)
    assert (project / ".gitattributes").read_text() == "*.py text eol=lf\n"
    assert ".gitattributes" in json.loads((project / ".mcpgen/base.json").read_text())["files"]


def test_gitattributes_of_the_user_gets_the_base_line_once(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    (project / ".gitattributes").write_text("*.png binary")
    result = apply(project, render(OPS))
    assert actions(result) == {".gitattributes": "updated"}
    expected = "*.png binary\n.mcpgen/base.json linguist-generated=true -diff\n"
    assert (project / ".gitattributes").read_text() == expected
    assert not apply(project, render(OPS)).wrote


def test_project_without_git(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    edit(project / TOOL, "    query = {}\n", '    query = {"expand": "author"}\n')
    result = apply(project, render({**OPS, "get_book": "Fetch a book by id."}))
    assert actions(result) == {TOOL: "merged"}
    assert result.warnings == ()
    edit(project / TOOL, "Fetch a book by id.", "Fetch it.")
    result = apply(project, render({**OPS, "get_book": "Fetch by id."}))
    assert result.conflicts == (TOOL,)
    assert find_conflict_markers(project) == [f"{TOOL}:9", f"{TOOL}:13"]
    [warning] = result.warnings
    assert (warning.level, warning.code) == ("warning", "merge-conflict")
    assert (warning.file, warning.pointer, warning.line) == (TOOL, None, 9)
    assert "1 conflict marked" in warning.message


def test_merging_needs_git_but_first_run_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "books"
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    apply(project, render(OPS))
    edit(project / TOOL, "    query = {}\n", '    query = {"expand": "author"}\n')
    before = snapshot(project)
    with pytest.raises(McpgenError) as caught:
        apply(project, render({**OPS, "get_book": "Fetch a book by id."}))
    assert caught.value.diagnostics[0].code == "git-missing"
    assert snapshot(project) == before


def test_dirty_work_tree_warns_and_proceeds(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    (project / "notes.txt").write_text("todo\n")
    result = apply(project, render({**OPS, "add_book": "Add a book."}))
    [warning] = result.warnings
    assert (warning.code, warning.file, warning.line) == ("uncommitted-changes", ".", None)
    assert warning.message.startswith("uncommitted changes (1 path: notes.txt)")
    assert (project / "src/books/tools/add_book.py").exists()
    commit_all(project)
    assert apply(project, render({**OPS, "add_book": "Add a book."})).warnings == ()


def test_project_in_a_monorepo_subfolder(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "mono")
    (repo / "README.md").write_text("monorepo\n")
    project = repo / "services" / "books"
    apply(project, render(OPS))
    commit_all(repo, "generate")
    edit(project / TOOL, '"""Fetch one book."""', '"""Fetch one book (cached)."""')
    (repo / "README.md").write_text("changed outside the project\n")
    result = apply(project, render({**OPS, "get_book": "Fetch a book by id."}))
    assert result.conflicts == (TOOL,)
    codes = [w.code for w in result.warnings]
    assert codes == ["uncommitted-changes", "merge-conflict"]
    assert "README.md" not in result.warnings[0].message
    unmerged = git(repo, "ls-files", "-u").stdout.splitlines()
    assert [line.split("\t")[1] for line in unmerged] == [f"services/books/{TOOL}"] * 3
    assert [line.split()[2] for line in unmerged] == ["1", "2", "3"]
    assert f"UU services/books/{TOOL}" in status(repo)


def test_renamed_operation_is_a_delete_plus_an_add(tmp_path: Path) -> None:
    project = generated_repo(tmp_path)
    edit(project / "src/books/tools/list_books.py", "    query = {}\n", "    query = {'n': 5}\n")
    commit_all(project, "page size")
    result = apply(project, render({"get_book": "Fetch one book.", "search_books": "Search."}))
    assert actions(result) == {
        "src/books/server.py": "updated",
        "src/books/tools/list_books.py": "conflict",
        "src/books/tools/search_books.py": "added",
    }
    kept = (project / "src/books/tools/list_books.py").read_text()
    assert kept.startswith("<<<<<<< ours (project)\n")
    assert "query = {'n': 5}" in kept


def test_a_base_loaded_by_the_caller_is_used_while_it_is_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS), user_owned=USER_OWNED)
    loaded = load_base(project)
    assert loaded is not None

    def read_again(project: Path) -> None:
        raise AssertionError(f"{project}/.mcpgen/base.json was parsed again")

    monkeypatch.setattr(engine, "load_base", read_again)
    result = apply(project, render(OPS, timeout=60), user_owned=USER_OWNED, base=loaded)
    assert actions(result)[TOOL] == "updated"
    assert "TIMEOUT = 60" in (project / TOOL).read_text()


def test_a_base_another_run_replaced_is_read_again(tmp_path: Path) -> None:
    """A base loaded before another run merged is not that run's base: merging against it
    would take the other run's output for a hand edit and keep it."""
    project = tmp_path / "books"
    apply(project, render(OPS), user_owned=USER_OWNED)
    early = load_base(project)
    apply(project, render(OPS, timeout=60), user_owned=USER_OWNED)  # the other run
    result = apply(project, render(OPS), user_owned=USER_OWNED, base=early)
    assert actions(result)[TOOL] == "updated"
    assert "TIMEOUT = 30" in (project / TOOL).read_text()
    assert is_stale(project, render(OPS)) == []
