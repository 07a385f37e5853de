"""The scenario of regeneration.md, end to end: a project generated from v1, committed and
edited by hand, regenerated after the API changed to v2."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mcpgen import __version__
from tests.regen.support import commit_all, digest, git, init_repo, snapshot, status
from tests.regen_e2e.support import (
    PACKAGE,
    PROJECT,
    SPEC,
    V2,
    Run,
    edit,
    insert_after,
    mcpgen,
    mcpgen_process,
    use_spec,
)

TOOLS = f"{PACKAGE}/tools"
STRIP = "    book_id = book_id.strip()  # ids pasted by agents carry spaces\n"
HOOK = '\n\nSHOP = "main"  # the shop our agents work for\n'


def test_first_generation_records_its_inputs(generated_v1: tuple[Path, Run]) -> None:
    work, run = generated_v1
    project = work / PROJECT
    assert f"wrote {PROJECT}: 4 tools" in run.stdout
    assert "agents will see 4 tools" in run.stdout
    raw = (project / ".mcpgen/inputs.json").read_bytes()
    inputs = json.loads(raw)
    assert inputs == {
        "format": 1,
        "mcpgen_version": __version__,
        "name": "books",
        "spec": "../specs/books.yaml",
    }
    assert raw == (json.dumps(inputs, indent=1, sort_keys=True) + "\n").encode()
    tools = json.loads((project / ".mcpgen/tools.json").read_bytes())["tools"]
    assert sorted(tools) == ["delete_book", "get_book", "get_category", "list_books"]
    assert tools["get_category"]["arguments"] == {"categoryId": "integer"}
    assert tools["list_books"]["required"] == []
    assert tools["list_books"]["output"] == "array<object>"
    assert tools["delete_book"]["output"] == "none"
    base = json.loads((project / ".mcpgen/base.json").read_bytes())
    assert f"{PACKAGE}/custom.py" not in base["files"]
    assert base["user_owned"] == ["src/*/custom.py"]
    assert (project / PACKAGE / "custom.py").is_file()
    for tool in ("get_book", "list_books"):
        head = (project / TOOLS / f"{tool}.py").read_text().split('"""')[1]
        assert "custom.py" in head, "generated files say where custom code belongs"


def test_api_change_merges_hand_edits_and_reports_what_agents_notice(work: Path) -> None:
    project = init_repo(work / PROJECT)
    commit_all(project, "generated from v1")
    insert_after(project / TOOLS / "get_book.py", ") -> Reply:", STRIP)
    custom = project / PACKAGE / "custom.py"
    custom.write_text(custom.read_text() + HOOK)
    insert_after(project / "pyproject.toml", "dependencies = [", '    "structlog>=24",\n')
    (project / "README.md").unlink()
    commit_all(project, "hand edits")
    custom_before = custom.read_bytes()

    use_spec(work, V2)
    run = mcpgen("generate", PROJECT, cwd=work)

    assert run.code == 0, run.output
    get_book = (project / TOOLS / "get_book.py").read_text()
    assert STRIP in get_book, "the hand edit survives"
    assert 'title="Get one book by its id"' in get_book, "the new generation arrives"
    assert custom.read_bytes() == custom_before
    assert (project / TOOLS / "list_authors.py").is_file()
    assert not (project / TOOLS / "delete_book.py").exists()
    pyproject = (project / "pyproject.toml").read_text()
    assert '"structlog>=24",' in pyproject and 'version = "2.0.0"' in pyproject
    assert not (project / "README.md").exists(), "a file the user deleted stays deleted"
    out = run.stdout
    assert "kept-deleted README.md: deleted in the project; left deleted (the new generation" in out
    assert "merged       pyproject.toml: your edits kept" in out
    assert f"merged       {TOOLS}/get_book.py: your edits kept" in out
    assert f"added        {TOOLS}/list_authors.py" in out
    assert f"deleted      {TOOLS}/delete_book.py" in out
    assert "agents will notice: 1 added, 1 removed, 2 changed (3 breaking)" in out
    assert "- delete_book   BREAKING: tool removed" in out
    assert "+ list_authors  new tool" in out
    assert "~ list_books    BREAKING: new required argument `shop`" in out
    assert "~ get_category  BREAKING: argument `categoryId` type changed: integer → string" in out
    assert not any(line.startswith(("UU", "AA", "UD", "DU")) for line in status(project))

    commit_all(project, "regenerated from v2")
    before = digest(project)
    again = mcpgen("generate", PROJECT, cwd=work)
    assert again.code == 0, again.output
    assert f"{PROJECT}: no file changes (2 kept-edited, 1 kept-deleted)" in again.stdout
    assert "agents will notice no change (4 tools)" in again.stdout
    assert digest(project) == before, "a second run changes no byte, .mcpgen/ included"
    assert status(project) == []


def test_clashing_edits_are_marked_and_block_a_plain_commit(work: Path) -> None:
    project = init_repo(work / PROJECT)
    commit_all(project, "generated from v1")
    category = project / TOOLS / "get_category.py"
    edit(category, "    category_id: int,\n", "    category_id: int,  # numeric ids only\n")
    removed = project / TOOLS / "delete_book.py"
    removed.write_text(removed.read_text() + "\n# used by the admin console\n")
    ours = project / TOOLS / "list_authors.py"
    ours.write_text('"""Our own list of authors, before the API had one."""\n')
    commit_all(project, "hand edits")

    use_spec(work, V2)
    run = mcpgen_process("generate", PROJECT, cwd=work)

    assert run.code == 1, run.output
    text = category.read_text()
    assert (
        "<<<<<<< ours (project)\n"
        "    category_id: int,  # numeric ids only\n"
        "=======\n"
        "    category_id: str,\n"
        ">>>>>>> theirs (new generation)\n"
    ) in text
    assert removed.read_text().startswith("<<<<<<< ours (project)\n")
    assert "# used by the admin console" in removed.read_text()
    assert "3 files with conflicts: resolve the markers, then re-run" in run.stdout
    assert f"UU {TOOLS}/get_category.py" in status(project)
    assert f"UD {TOOLS}/delete_book.py" in status(project)
    assert f"AA {TOOLS}/list_authors.py" in status(project)
    assert ours.read_text().startswith("<<<<<<< ours (project)\n")
    refused = git(project, "commit", "-m", "merge", check=False)
    assert refused.returncode != 0
    assert "unmerged" in refused.stdout + refused.stderr

    checked = mcpgen("check", PROJECT, cwd=work)
    assert checked.code == 1, checked.output
    assert f"{PROJECT} still holds conflict markers; resolve them:" in checked.stdout
    assert f"  {TOOLS}/get_category.py:19" in checked.stdout

    blocked = mcpgen("generate", PROJECT, cwd=work)
    assert blocked.code == 2
    assert "error[conflicts-remain]" in blocked.stderr

    edit(category, text[text.index("<<<<<<<") : text.index(">>>>>>>")], "    category_id: str,\n")
    edit(category, ">>>>>>> theirs (new generation)\n", "")
    git(project, "rm", "-q", "--", f"{TOOLS}/delete_book.py")
    text = ours.read_text()
    ours.write_text(text[text.index("=======\n") + 8 : text.index(">>>>>>>")])
    commit_all(project, "regenerated from v2, conflicts resolved")
    settled = mcpgen("generate", PROJECT, cwd=work)
    assert settled.code == 0, settled.output
    # the base stops tracking the removed file, now that the conflict is resolved
    assert status(project) == [" M .mcpgen/base.json"]


def test_overrides_are_recorded_and_the_name_stays(work: Path) -> None:
    project = work / PROJECT
    moved = work / "api" / "openapi.yaml"
    moved.parent.mkdir()
    moved.write_text(V2.read_text().replace("title: Books API", "title: Bookstore API"))
    run = mcpgen("generate", "api/openapi.yaml", "-o", PROJECT, cwd=work)
    assert run.code == 0, run.output
    inputs = json.loads((project / ".mcpgen/inputs.json").read_bytes())
    assert inputs["spec"] == "../api/openapi.yaml"
    assert inputs["name"] == "books", "a new title does not rename the package"
    assert (project / TOOLS / "list_authors.py").is_file()
    before = snapshot(project)
    again = mcpgen("generate", ".", cwd=project)
    assert again.code == 0, again.output
    assert snapshot(project) == before


def test_dry_run_prints_the_changes_and_writes_nothing(work: Path) -> None:
    project = init_repo(work / PROJECT)
    commit_all(project)
    use_spec(work, V2)
    before = snapshot(project)
    run = mcpgen("generate", PROJECT, "--dry-run", cwd=work)
    assert run.code == 0, run.output
    assert f"added        {TOOLS}/list_authors.py" in run.stdout
    assert "(dry run: nothing written)" in run.stdout
    assert "BREAKING: tool removed" in run.stdout
    as_json = mcpgen_process("generate", PROJECT, "--dry-run", "--json", cwd=work)
    assert as_json.code == 0, as_json.output
    report = as_json.json()
    assert (report["dry_run"], report["wrote"], report["exit_code"]) == (True, False, 0)
    assert {"action": "added", "detail": "", "path": f"{TOOLS}/list_authors.py"} in report["files"]
    assert report["summary"]["deleted"] == 1
    assert report["agents"]["breaking"] == 3
    removed = [t for t in report["agents"]["tools"] if t["kind"] == "removed"]
    assert removed == [
        {
            "breaking": True,
            "changes": [{"breaking": True, "reason": "tool removed"}],
            "kind": "removed",
            "tool": "delete_book",
        }
    ]
    assert snapshot(project) == before
    assert status(project) == []


def test_generate_json_and_a_dirty_work_tree(work: Path) -> None:
    project = init_repo(work / PROJECT)
    commit_all(project)
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nOur deployment notes.\n")
    use_spec(work, V2)
    run = mcpgen("generate", PROJECT, "--json", cwd=work)
    assert run.code == 0, run.output
    report = run.json()
    assert report["wrote"] is True
    assert report["first_generation"] is False
    assert report["format"] == 2
    [dirty] = [d for d in report["diagnostics"] if d["code"] == "uncommitted-changes"]
    assert (dirty["level"], dirty["file"], dirty["line"]) == ("warning", PROJECT, None)
    assert dirty["message"].startswith("uncommitted changes (1 path: README.md)")
    assert f"{PROJECT}: warning[uncommitted-changes]: uncommitted changes" in run.stderr
    assert "Our deployment notes." in readme.read_text()


def test_crlf_files_stay_crlf(work: Path) -> None:
    project = init_repo(work / PROJECT)
    tool = project / TOOLS / "get_book.py"
    tool.write_bytes(tool.read_bytes().replace(b"\n", b"\r\n"))
    commit_all(project)
    use_spec(work, V2)
    run = mcpgen("generate", PROJECT, cwd=work)
    assert run.code == 0, run.output
    content = tool.read_bytes()
    assert b"Get one book by its id" in content
    assert content.count(b"\n") == content.count(b"\r\n")


def test_a_run_in_progress_holds_the_lock(work: Path) -> None:
    project = work / PROJECT
    (project / ".mcpgen/lock").write_text(f"{os.getpid()}\n")
    use_spec(work, V2)
    before = snapshot(project)
    run = mcpgen("generate", PROJECT, cwd=work)
    assert run.code == 2
    assert f"another mcpgen run holds {PROJECT}/.mcpgen/lock (pid {os.getpid()})" in run.stderr
    assert snapshot(project) == before


def test_the_mapping_is_recorded_and_its_changes_arrive(work: Path) -> None:
    project = work / PROJECT
    mapping = work / "mcpgen.yaml"
    mapping.write_text("operations:\n  getBook:\n    name: fetch_book\n")
    run = mcpgen("generate", SPEC, "-m", "mcpgen.yaml", "-o", PROJECT, cwd=work)
    assert run.code == 0, run.output
    assert json.loads((project / ".mcpgen/inputs.json").read_bytes())["mapping"] == "../mcpgen.yaml"
    assert (project / TOOLS / "fetch_book.py").is_file()
    assert "+ fetch_book  new tool" in run.stdout
    assert "- get_book    BREAKING: tool removed" in run.stdout

    mapping.write_text(
        mapping.read_text() + "rules:\n  - match: {operation_ids: [deleteBook]}\n    as: exclude\n"
    )
    again = mcpgen("generate", PROJECT, cwd=work)
    assert again.code == 0, again.output
    assert not (project / TOOLS / "delete_book.py").exists()
    assert (project / TOOLS / "fetch_book.py").is_file(), "the recorded mapping is used"
    assert "- delete_book  BREAKING: tool removed" in again.stdout

    mapping.write_text("operations:\n  getBook:\n    nmae: typo\n")
    bad = mcpgen("generate", PROJECT, cwd=work)
    assert bad.code == 2
    assert (
        "mcpgen.yaml#/operations/getBook/nmae (line 3): error[mapping]: unknown key" in bad.stderr
    )


def test_hand_edits_to_deploy_files_survive_regeneration(work: Path) -> None:
    """Deploy files are generated files like any other: edits merge in, and a target
    turned off in the mapping takes its unedited files away."""
    project = init_repo(work / PROJECT)
    commit_all(project, "generated from v1")
    edit(project / "fly.toml", 'primary_region = "iad"', 'primary_region = "cdg"')
    edit(project / "Dockerfile", "USER 10001:10001\n", "USER 10001:10001\nLABEL team=books\n")
    edit(project / "wrangler.jsonc", '"max_instances": 3', '"max_instances": 5')
    commit_all(project, "deploy edits")

    use_spec(work, V2)
    (work / "mcpgen.yaml").write_text("deploy:\n  cloudflare_python: false\n")
    run = mcpgen("generate", PROJECT, "-m", "mcpgen.yaml", cwd=work)

    assert run.code == 0, run.output
    assert 'primary_region = "cdg"' in (project / "fly.toml").read_text()
    assert "LABEL team=books\n" in (project / "Dockerfile").read_text()
    assert '"max_instances": 5' in (project / "wrangler.jsonc").read_text()
    assert not (project / "workers-python").exists()
    assert not (project / "src" / "python_worker.py").exists()
    assert "deleted      workers-python/wrangler.jsonc" in run.stdout
    assert not any(line.startswith(("UU", "AA", "UD", "DU")) for line in status(project))
