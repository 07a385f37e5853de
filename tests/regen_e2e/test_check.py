"""`mcpgen check DIR`: up to date → 0; stale or conflict markers → 1; bad input → 2. No git."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.regen_e2e.support import (
    PACKAGE,
    PROJECT,
    SPEC,
    V2,
    insert_after,
    mcpgen,
    mcpgen_process,
    use_spec,
)

TOOLS = f"{PACKAGE}/tools"


def test_check_without_git(work: Path) -> None:
    assert not (work / PROJECT / ".git").exists()
    insert_after(work / PROJECT / TOOLS / "get_book.py", ") -> Reply:", "    assert book_id\n")
    fresh = mcpgen("check", PROJECT, cwd=work)
    assert fresh.code == 0, fresh.output
    assert fresh.stdout == f"{PROJECT}: up to date (4 tools)\n", "hand edits do not count"

    use_spec(work, V2)
    stale = mcpgen("check", PROJECT, cwd=work)
    assert stale.code == 1, stale.output
    assert f"{PROJECT} is stale against its spec, mapping or mcpgen;" in stale.stdout
    assert f"  would add {TOOLS}/list_authors.py" in stale.stdout
    assert f"  would remove {TOOLS}/delete_book.py" in stale.stdout
    assert f"  {TOOLS}/list_books.py would change" in stale.stdout
    assert "  .mcpgen/tools.json would change" in stale.stdout
    assert "BREAKING: tool removed" in stale.stdout

    report = mcpgen_process("check", PROJECT, "--json", cwd=work)
    assert report.code == 1, report.output
    data = report.json()
    assert (data["command"], data["up_to_date"], data["exit_code"]) == ("check", False, 1)
    assert f"would add {TOOLS}/list_authors.py" in data["stale"]
    assert data["conflict_markers"] == []
    assert data["agents"]["breaking"] == 3

    merged = mcpgen("generate", PROJECT, cwd=work)
    assert merged.code == 0, merged.output
    assert "    assert book_id\n" in (work / PROJECT / TOOLS / "get_book.py").read_text()
    assert mcpgen("check", PROJECT, cwd=work).code == 0


def test_check_finds_markers_without_git(work: Path) -> None:
    tool = work / PROJECT / TOOLS / "get_book.py"
    tool.write_text(
        tool.read_text()
        + "<<<<<<< ours (project)\nx\n=======\ny\n>>>>>>> theirs (new generation)\n"
    )
    run = mcpgen("check", PROJECT, "--json", cwd=work)
    assert run.code == 1, run.output
    data = run.json()
    assert data["stale"] == []
    lines = len(tool.read_text().splitlines())
    assert data["conflict_markers"] == [
        f"{TOOLS}/get_book.py:{lines - 4}",
        f"{TOOLS}/get_book.py:{lines}",
    ]


def test_check_bad_input(work: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    run = mcpgen("check", str(plain), cwd=work)
    assert run.code == 2
    assert "error[no-inputs]" in run.stderr
    assert "records no inputs (.mcpgen/inputs.json is missing)" in run.stderr

    missing = mcpgen("check", str(tmp_path / "nope"), cwd=work)
    assert missing.code == 2
    assert "nope: error[not-found]: no such directory" in missing.stderr

    (work / SPEC).unlink()
    gone = mcpgen("check", PROJECT, "--json", cwd=work)
    assert gone.code == 2
    assert "error[spec-missing]" in gone.stderr
    assert "../specs/books.yaml (that is specs/books.yaml), does not exist" in gone.stderr
    error = gone.json()["diagnostics"][0]
    assert (error["level"], error["code"]) == ("error", "spec-missing")
    assert error["file"] == f"{PROJECT}/.mcpgen/inputs.json"

    (work / PROJECT / ".mcpgen/inputs.json").write_text("{")
    broken = mcpgen("generate", PROJECT, cwd=work)
    assert broken.code == 2
    assert "error[bad-inputs]" in broken.stderr


def test_generate_usage(work: Path) -> None:
    cases = {
        (): "give SPEC -o DIR for a new project, or DIR to regenerate one",
        (SPEC,): "is a file: to generate from it, name the project directory with -o DIR",
        ("nowhere",): "nowhere: error[not-found]: no such directory",
        ("--frobnicate",): "No such option: --frobnicate",
    }
    for args, message in cases.items():
        run = mcpgen("generate", *args, cwd=work)
        assert run.code == 2, (args, run.output)
        assert message in run.stderr, (args, run.output)
    usage = mcpgen_process("generate", "--frobnicate", cwd=work)
    assert usage.code == 2, usage.output
    shutil.rmtree(work / PROJECT / ".mcpgen")
    not_a_project = mcpgen("generate", SPEC, "-o", PROJECT, cwd=work)
    assert not_a_project.code == 2
    assert "error[not-a-project]" in not_a_project.stderr
