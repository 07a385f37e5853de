"""Binary files, executable bits, CRLF line endings and the base file's format."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from mcpgen.errors import McpgenError
from mcpgen.regen import MergeResult, RenderedFile, apply, find_conflict_markers
from tests.regen.support import (
    commit_all,
    git,
    init_repo,
    render,
    snapshot,
    status,
    text,
    tool_file,
)

OPS = {"get_book": "Fetch one book."}
TOOL = "src/books/tools/get_book.py"
LOGO = "assets/logo.png"
PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"


def actions(result: MergeResult) -> dict[str, str]:
    return {change.path: change.action for change in result.changes}


def with_logo(logo: bytes) -> dict[str, RenderedFile]:
    return {**render(OPS), LOGO: RenderedFile(logo)}


def executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


def test_binary_file_changed_only_by_the_generation_is_updated(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, with_logo(PNG + b"v1"))
    result = apply(project, with_logo(PNG + b"v2"))
    assert actions(result) == {LOGO: "updated"}
    assert (project / LOGO).read_bytes() == PNG + b"v2"
    base = json.loads((project / ".mcpgen/base.json").read_text())
    assert base["files"][LOGO] == {"base64": "iVBORw0KGgoAAAANSUhEUnYy", "executable": False}


def test_binary_clash_keeps_yours_and_puts_theirs_beside_it(tmp_path: Path) -> None:
    project = init_repo(tmp_path / "books")
    apply(project, with_logo(PNG + b"v1"))
    (project / LOGO).write_bytes(PNG + b"mine")
    commit_all(project)
    result = apply(project, with_logo(PNG + b"v2"))
    assert result.conflicts == (LOGO,)
    assert f"{LOGO}.mcpgen-new" in result.changes[0].detail
    assert (project / LOGO).read_bytes() == PNG + b"mine"
    assert (project / f"{LOGO}.mcpgen-new").read_bytes() == PNG + b"v2"
    assert f"UU {LOGO}" in status(project)
    assert find_conflict_markers(project) == [f"{LOGO}.mcpgen-new:1"]
    with pytest.raises(McpgenError, match="conflicts-remain"):
        apply(project, with_logo(PNG + b"v2"))
    (project / f"{LOGO}.mcpgen-new").unlink()
    git(project, "add", LOGO)
    assert actions(apply(project, with_logo(PNG + b"v2"))) == {LOGO: "kept-edited"}


def test_edited_binary_no_longer_generated_is_kept(tmp_path: Path) -> None:
    project = init_repo(tmp_path / "books")
    apply(project, with_logo(PNG + b"v1"))
    (project / LOGO).write_bytes(PNG + b"mine")
    commit_all(project)
    result = apply(project, render(OPS))
    assert actions(result) == {LOGO: "conflict"}
    assert (project / LOGO).read_bytes() == PNG + b"mine"
    assert f"UD {LOGO}" in status(project)


def test_text_file_turned_binary_is_not_text_merged(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, {**render(OPS), "data.bin": text("plain\n")})
    (project / "data.bin").write_text("plain, edited\n")
    result = apply(project, {**render(OPS), "data.bin": RenderedFile(b"\xff\xfe\0")})
    assert result.conflicts == ("data.bin",)
    assert (project / "data.bin").read_text() == "plain, edited\n"
    assert (project / "data.bin.mcpgen-new").read_bytes() == b"\xff\xfe\0"


def test_executable_bit_follows_the_generation(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    assert executable(project / "scripts/run.sh")
    assert not executable(project / "README.md")
    rendered = render(OPS)
    rendered["README.md"] = RenderedFile(rendered["README.md"].content, executable=True)
    result = apply(project, rendered)
    assert [(c.path, c.action, c.detail) for c in result.changes] == [
        ("README.md", "updated", "executable bit set")
    ]
    assert executable(project / "README.md")


def test_executable_bit_changed_by_the_user_is_kept(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    (project / "scripts/run.sh").chmod(0o644)
    (project / "Dockerfile").chmod(0o755)
    result = apply(project, render(OPS, python="3.13"))
    assert actions(result) == {"Dockerfile": "updated"}
    assert executable(project / "Dockerfile")
    assert "3.13" in (project / "Dockerfile").read_text()
    rendered = render(OPS)
    rendered["scripts/run.sh"] = text("#!/bin/sh\nexec books\n", executable=True)
    apply(project, rendered)
    assert not executable(project / "scripts/run.sh")
    assert (project / "scripts/run.sh").read_text() == "#!/bin/sh\nexec books\n"


def test_conflict_stages_carry_the_executable_bit(tmp_path: Path) -> None:
    project = init_repo(tmp_path / "books")
    apply(project, render(OPS))
    (project / "scripts/run.sh").write_text("#!/bin/sh\nexec books --mine\n")
    commit_all(project)
    rendered = render(OPS)
    rendered["scripts/run.sh"] = text("#!/bin/sh\nexec books --theirs\n", executable=True)
    apply(project, rendered)
    modes = [line.split()[0] for line in git(project, "ls-files", "-u").stdout.splitlines()]
    assert modes == ["100755", "100755", "100755"]


def crlf(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def test_crlf_project_files_survive_a_no_change_run(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    crlf(project / TOOL)
    crlf(project / "Dockerfile")
    before = snapshot(project)
    result = apply(project, render(OPS))
    assert not result.wrote
    assert result.changes == ()
    assert snapshot(project) == before


def test_crlf_project_file_merges_in_lf_and_stays_crlf(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    crlf(project / TOOL)
    crlf(project / "Dockerfile")
    tool = project / TOOL
    tool.write_bytes(tool.read_bytes().replace(b"query = {}", b'query = {"expand": "author"}'))
    result = apply(project, render({"get_book": "Fetch a book by id."}, python="3.13"))
    assert actions(result) == {TOOL: "merged", "Dockerfile": "updated"}
    merged = tool.read_bytes()
    assert merged.count(b"\n") == merged.count(b"\r\n")
    assert b'query = {"expand": "author"}\r\n' in merged
    assert b'"""Fetch a book by id."""\r\n' in merged
    dockerfile = (project / "Dockerfile").read_bytes()
    assert dockerfile.startswith(b"FROM python:3.13-slim\r\nWORKDIR /app\r\n")


def test_crlf_conflict_markers_are_found(tmp_path: Path) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    crlf(project / TOOL)
    tool = project / TOOL
    tool.write_bytes(tool.read_bytes().replace(b"Fetch one book.", b"Fetch (mine)."))
    result = apply(project, render({"get_book": "Fetch (theirs)."}))
    assert result.conflicts == (TOOL,)
    assert b"<<<<<<< ours (project)\r\n" in tool.read_bytes()
    assert find_conflict_markers(project) == [f"{TOOL}:9", f"{TOOL}:13"]


def test_base_file_format_is_sorted_and_stable(tmp_path: Path) -> None:
    rendered = with_logo(PNG)
    rendered["scripts/é.txt"] = text("ünïcode\n")
    first, second = tmp_path / "one", tmp_path / "two"
    apply(first, rendered, user_owned=("src/*/custom.py", "*.local"))
    apply(second, dict(reversed(rendered.items())), user_owned=("*.local", "src/*/custom.py"))
    raw = (first / ".mcpgen/base.json").read_bytes()
    assert raw == (second / ".mcpgen/base.json").read_bytes()
    assert raw.endswith(b"}\n")
    data = json.loads(raw)
    assert json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n" == raw.decode()
    assert data["format"] == 1
    assert data["user_owned"] == ["*.local", "src/*/custom.py"]
    assert data["files"]["scripts/run.sh"] == {
        "executable": True,
        "text": "#!/bin/sh\nexec books --transport stdio\n",
    }
    assert data["files"]["scripts/é.txt"]["text"] == "ünïcode\n"
    assert "src/books/custom.py" not in data["files"]
    assert data["files"][TOOL]["text"] == tool_file("get_book", description="Fetch one book.")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"not json", "bad-base"),
        (b'{"format": 1, "files": {"a": {"text": 1}}}', "bad-base"),
        (b'{"format": 1, "files": {"a": {"base64": "!!"}}}', "bad-base"),
        (b'{"format": 2, "files": {}}', "base-too-new"),
    ],
)
def test_unreadable_base_is_reported(tmp_path: Path, content: bytes, code: str) -> None:
    project = tmp_path / "books"
    apply(project, render(OPS))
    (project / ".mcpgen/base.json").write_bytes(content)
    with pytest.raises(McpgenError) as caught:
        apply(project, render(OPS))
    assert caught.value.diagnostics[0].code == code
    assert (project / ".mcpgen/base.json").read_bytes() == content
