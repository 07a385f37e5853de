"""No-op runs, the lock, all-or-nothing writes, dry runs and the metadata files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpgen.errors import McpgenError
from mcpgen.files import RenderedFile
from mcpgen.regen import MergeResult, apply, find_conflict_markers, is_stale, transaction
from tests.regen.support import (
    USER_OWNED,
    commit_all,
    digest,
    git,
    init_repo,
    render,
    snapshot,
    status,
)

OPS = {"get_book": "Fetch one book.", "list_books": "List the books."}
TOOL = "src/books/tools/get_book.py"
INPUTS = ".mcpgen/inputs.json"
EXTRA = {INPUTS: b"{}\n"}


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text()
    assert old in content
    path.write_text(content.replace(old, new))


def prepared(root: Path) -> Path:
    """A generated project (no git) with one clean edit, one clashing edit, one deleted file
    and one file in a directory of its own, ready for a run with NEW_OPS."""
    project = root / "books"
    apply(project, render({**OPS, "delete_book": "Delete a book."}), user_owned=USER_OWNED)
    edit(project / TOOL, "    query = {}\n", '    query = {"expand": "author"}\n')
    edit(project / "src/books/tools/list_books.py", "List the books.", "List books (mine).")
    (project / "README.md").unlink()
    return project


NEW_OPS = {
    "get_book": "Fetch a book by id.",
    "list_books": "List every book.",
    "add_book": "Add a book.",
}


@pytest.fixture
def sleeper() -> Iterator[int]:
    process = subprocess.Popen(["sleep", "60"])
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()


def test_second_run_changes_no_byte(tmp_path: Path) -> None:
    project = init_repo(tmp_path / "books")
    apply(project, render(OPS), user_owned=USER_OWNED, extra_files=EXTRA)
    edit(project / TOOL, "    query = {}\n", '    query = {"expand": "author"}\n')
    (project / "README.md").unlink()
    (project / "scripts/run.sh").chmod(0o644)
    commit_all(project, "edits")
    new = render({**OPS, "get_book": "Fetch a book by id."}, version=2)
    first = apply(project, new, user_owned=USER_OWNED, extra_files=EXTRA)
    assert first.wrote
    commit_all(project, "regenerate")
    before = digest(project)
    second = apply(project, new, user_owned=USER_OWNED, extra_files=EXTRA)
    assert not second.wrote
    assert digest(project) == before
    assert status(project) == []
    assert {c.action for c in second.changes} <= {"kept-deleted", "kept-edited"}


def test_metadata_files_are_written_only_when_changed(tmp_path: Path) -> None:
    project = tmp_path / "books"
    result = apply(project, render(OPS), extra_files={INPUTS: b'{"spec": "a.yaml"}\n'})
    assert INPUTS not in {c.path for c in result.changes}
    assert (project / INPUTS).read_bytes() == b'{"spec": "a.yaml"}\n'
    assert INPUTS not in (project / ".mcpgen/base.json").read_text()
    assert not apply(project, render(OPS), extra_files={INPUTS: b'{"spec": "a.yaml"}\n'}).wrote
    result = apply(project, render(OPS), extra_files={INPUTS: b'{"spec": "b.yaml"}\n'})
    assert result.wrote
    assert result.changes == ()
    assert (project / INPUTS).read_bytes() == b'{"spec": "b.yaml"}\n'


@pytest.mark.parametrize(
    "extra", [{"inputs.json": b""}, {".mcpgen/base.json": b""}, {".mcpgen/lock": b""}]
)
def test_metadata_paths_are_checked(tmp_path: Path, extra: dict[str, bytes]) -> None:
    with pytest.raises(ValueError, match="extra file"):
        apply(tmp_path / "books", render(OPS), extra_files=extra)
    assert not (tmp_path / "books").exists()


@pytest.mark.parametrize("path", ["../escape.py", "/abs.py", "a//b.py", ".mcpgen/x", ".git/x"])
def test_rendered_paths_are_checked(tmp_path: Path, path: str) -> None:
    with pytest.raises(ValueError):
        apply(tmp_path / "books", {**render(OPS), path: render(OPS)["README.md"]})
    assert not (tmp_path / "books").exists()


def test_second_run_is_refused_while_another_holds_the_lock(tmp_path: Path, sleeper: int) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    (project / ".mcpgen/lock").write_text(f"{sleeper}\n")
    before = snapshot(project)
    for dry_run in (False, True):
        with pytest.raises(McpgenError) as caught:
            apply(project, render({**OPS, "add_book": "Add."}), dry_run=dry_run)
        assert caught.value.diagnostics[0].code == "locked"
        assert f"(pid {sleeper}); if none is running, delete the file" in str(caught.value)
    assert snapshot(project) == before


def test_lock_of_a_dead_run_is_taken_over(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    finished = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True)
    (project / ".mcpgen/lock").write_text(finished.stdout)
    result = apply(project, render({**OPS, "add_book": "Add."}))
    assert result.wrote
    assert not (project / ".mcpgen/lock").exists()


def test_lock_is_released_when_a_run_fails(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    (project / TOOL).write_text("<<<<<<< ours (project)\n")
    with pytest.raises(McpgenError):
        apply(project, render(OPS))
    assert sorted(p.name for p in (project / ".mcpgen").iterdir()) == ["base.json"]


def count_moves(monkeypatch: pytest.MonkeyPatch, project: Path) -> int:
    """How many changes to files (moves and creations) a successful run into a copy of
    `project` takes."""
    scratch = project.parent / "scratch"
    shutil.copytree(project, scratch)
    changes: list[Path] = []
    move, create = transaction._move, transaction._create

    def counting_move(source: Path, target: Path) -> None:
        changes.append(target)
        move(source, target)

    def counting_create(target: Path, file: RenderedFile) -> None:
        changes.append(target)
        create(target, file)

    monkeypatch.setattr(transaction, "_move", counting_move)
    monkeypatch.setattr(transaction, "_create", counting_create)
    apply(scratch, render(NEW_OPS), user_owned=USER_OWNED, extra_files=EXTRA)
    monkeypatch.setattr(transaction, "_move", move)
    monkeypatch.setattr(transaction, "_create", create)
    shutil.rmtree(scratch)
    return len(changes)


def fail_on_move(monkeypatch: pytest.MonkeyPatch, failing: int) -> None:
    """The `failing`-th change to a file (a move or a creation) fails, disk full; a failed
    creation leaves a partly written file behind, as a full disk does."""
    move, create = transaction._move, transaction._create
    calls: list[Path] = []

    def flaky_move(source: Path, target: Path) -> None:
        calls.append(target)
        if len(calls) == failing:
            raise OSError(28, "No space left on device")
        move(source, target)

    def flaky_create(target: Path, file: RenderedFile) -> None:
        calls.append(target)
        if len(calls) == failing:
            target.write_bytes(file.content[: len(file.content) // 2])
            raise OSError(28, "No space left on device")
        create(target, file)

    monkeypatch.setattr(transaction, "_move", flaky_move)
    monkeypatch.setattr(transaction, "_create", flaky_create)


def test_failure_while_moving_files_leaves_the_project_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = prepared(tmp_path)
    before = snapshot(project)
    total = count_moves(monkeypatch, project)
    assert total > 10
    for failing in range(1, total + 1):
        with monkeypatch.context() as patch:
            fail_on_move(patch, failing)
            with pytest.raises(OSError, match="No space"):
                apply(project, render(NEW_OPS), user_owned=USER_OWNED, extra_files=EXTRA)
        assert snapshot(project) == before, f"failure at move {failing}"
    result = apply(project, render(NEW_OPS), user_owned=USER_OWNED, extra_files=EXTRA)
    assert result.conflicts == ("src/books/tools/list_books.py",)
    assert (project / "src/books/tools/add_book.py").exists()
    assert not (project / "src/books/tools/delete_book.py").exists()


def test_failed_first_run_leaves_no_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "parent" / "books"
    fail_on_move(monkeypatch, 5)
    with pytest.raises(OSError, match="No space"):
        apply(project, render(OPS))
    assert not (tmp_path / "parent").exists()


def test_killed_run_is_undone_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = prepared(tmp_path)
    reference = prepared(tmp_path / "reference")
    before = snapshot(project)
    expected = apply(reference, render(NEW_OPS), user_owned=USER_OWNED)
    with monkeypatch.context() as patch:
        fail_on_move(patch, 7)
        patch.setattr(transaction, "recover", lambda project: False)
        with pytest.raises(OSError, match="No space"):
            apply(project, render(NEW_OPS), user_owned=USER_OWNED)
    assert snapshot(project) != before
    assert transaction.is_pending(project)
    assert is_stale(project, render(NEW_OPS))[0].startswith("an interrupted run left")
    with pytest.raises(McpgenError) as caught:
        apply(project, render(NEW_OPS), user_owned=USER_OWNED, dry_run=True)
    assert caught.value.diagnostics[0].code == "interrupted"
    result = apply(project, render(NEW_OPS), user_owned=USER_OWNED)
    assert result == expected
    assert snapshot(project) == snapshot(reference)


def test_dry_run_writes_nothing_and_reports_the_real_changes(tmp_path: Path) -> None:
    project = init_repo(tmp_path / "books")
    apply(project, render(OPS), user_owned=USER_OWNED)
    edit(project / TOOL, '"""Fetch one book."""', '"""Fetch one book (cached)."""')
    commit_all(project)
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    os.utime(project / "README.md", (1_000_000_000, 1_000_000_000))
    before, index = snapshot(project), (project / ".git/index").read_bytes()
    dry = apply(project, render(NEW_OPS), user_owned=USER_OWNED, dry_run=True)
    assert snapshot(project) == before
    assert (project / ".git/index").read_bytes() == index
    assert status(project) == []
    assert not dry.wrote
    real = apply(copy, render(NEW_OPS), user_owned=USER_OWNED)
    assert real.wrote
    assert (dry.changes, dry.conflicts) == (real.changes, real.conflicts)
    assert dry.conflicts == (TOOL,)
    assert find_conflict_markers(project) == []
    assert git(project, "ls-files", "-u").stdout == ""


def test_dry_run_of_a_first_run_creates_nothing(tmp_path: Path) -> None:
    result = apply(tmp_path / "books", render(OPS), dry_run=True)
    assert not result.wrote
    assert {c.action for c in result.changes} == {"added"}
    assert not (tmp_path / "books").exists()


def test_merge_result_is_deterministic(tmp_path: Path) -> None:
    results: list[MergeResult] = []
    digests = []
    for name in ("one", "two"):
        project = prepared(tmp_path / name)
        results.append(apply(project, render(NEW_OPS), user_owned=USER_OWNED))
        digests.append(digest(project))
    assert results[0] == results[1]
    assert digests[0] == digests[1]
    assert [c.path for c in results[0].changes] == sorted(c.path for c in results[0].changes)


def test_staging_left_by_a_run_killed_while_preparing_is_discarded(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    staging = project / transaction.TXN_DIR / "new"
    staging.mkdir(parents=True)
    (staging / "0").write_text("half-written\n")
    result = apply(project, render({**OPS, "add_book": "Add a book."}))
    assert result.wrote
    assert sorted(p.name for p in (project / ".mcpgen").iterdir()) == ["base.json"]


def test_symlink_at_a_managed_path_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    (project / "README.md").unlink()
    (project / "README.md").symlink_to(tmp_path / "elsewhere.md")
    with pytest.raises(McpgenError) as caught:
        apply(project, render(OPS))
    assert caught.value.diagnostics[0].code == "not-a-file"


def test_file_where_a_directory_is_needed_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    (project / "docs").write_text("a file, not a directory\n")
    before = snapshot(project)
    with pytest.raises(McpgenError) as caught:
        apply(project, {**render(OPS), "docs/index.md": render(OPS)["README.md"]})
    assert caught.value.diagnostics[0].code == "not-a-directory"
    assert snapshot(project) == before


KILLED_RUN = """
import os, sys
from pathlib import Path
from mcpgen.files import RenderedFile
from mcpgen.regen import transaction

create = transaction._create
def killed_at_second(target, file):
    if target.name == "second.py":
        os._exit(9)  # killed before it reached this path
    create(target, file)
transaction._create = killed_at_second
transaction.commit(Path(sys.argv[1]), [
    transaction.Op("first.py", RenderedFile(b"first = 1\\n", False)),
    transaction.Op("second.py", RenderedFile(b"second = 2\\n", False)),
])
"""


def test_recovery_keeps_a_file_saved_where_the_killed_run_had_not_written(
    tmp_path: Path,
) -> None:
    project = tmp_path / "books"
    project.mkdir()
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(project)], timeout=60, check=False
    )
    assert killed.returncode == 9
    assert transaction.is_pending(project)
    assert (project / "first.py").read_bytes() == b"first = 1\n"
    (project / "second.py").write_text("mine = 2\n")  # saved after the run was killed
    assert transaction.recover(project)
    assert not (project / "first.py").exists()  # the run's own file is undone
    assert (project / "second.py").read_text() == "mine = 2\n"
    assert not (project / transaction.TXN_DIR).exists()


def test_recovery_keeps_a_new_file_edited_since_the_killed_run(tmp_path: Path) -> None:
    project = tmp_path / "books"
    project.mkdir()
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(project)], timeout=60, check=False
    )
    assert killed.returncode == 9
    (project / "first.py").write_text("first = 'mine'\n")
    assert transaction.recover(project)
    assert (project / "first.py").read_text() == "first = 'mine'\n"


def test_rollback_keeps_a_file_saved_where_the_run_had_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "books"
    project.mkdir()
    create = transaction._create

    def saved_meanwhile(target: Path, file: RenderedFile) -> None:
        if target.name == "second.py":
            target.write_text("mine = 2\n")  # the user saves it while the run goes on
        create(target, file)

    monkeypatch.setattr(transaction, "_create", saved_meanwhile)
    ops = [
        transaction.Op("first.py", RenderedFile(b"first = 1\n", False)),
        transaction.Op("second.py", RenderedFile(b"second = 2\n", False)),
    ]
    with pytest.raises(FileExistsError):
        transaction.commit(project, ops)
    assert not (project / "first.py").exists()  # the run's own file is undone
    assert not (project / transaction.TXN_DIR).exists()
    assert (project / "second.py").read_text() == "mine = 2\n"
