"""Rebuild `generated-examples/walkthrough/`: `python scripts/update_walkthrough.py`.

The walkthrough shows one project at four moments: generated from spec v1 (`v1/project`),
edited by hand (`edited/project`), and merged with a new generation from spec v2
(`merged/project`). The two specs (`v1/openapi.yaml`, `v2/openapi.yaml`) are the inputs,
written by hand; everything else, README included, is rebuilt here, deterministically.
The hand edits are applied as exact text replacements: when a template change makes one no
longer apply, this script stops and says which.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))

from mcpgen.pipeline import generate  # noqa: E402

__all__ = ["EDITS", "SPECS", "WALKTHROUGH", "Edit", "main", "regenerate"]

WALKTHROUGH = ROOT / "generated-examples" / "walkthrough"
SPECS = ("v1/openapi.yaml", "v2/openapi.yaml")
PACKAGE = "src/bookshop_mcp"
STAGES = ("v1/project", "edited/project", "merged/project")


@dataclass(frozen=True)
class Edit:
    """Replace `old`, which must occur exactly once in `path`, by `new`."""

    path: str
    old: str
    new: str
    why: str


EDITS = (
    Edit(
        f"{PACKAGE}/tools/list_books.py",
        ") -> Reply:\n",
        ") -> Reply:\n"
        "    if isinstance(limit, Unset):\n"
        "        limit = 50  # our agents read whole pages: fewer calls than with the API's 20\n",
        "a tweak in a generated tool: a bigger default page",
    ),
    Edit(
        f"{PACKAGE}/tools/get_book.py",
        '    description="Get a book",\n',
        '    description="Get a book by its id (list_books shows the ids).",\n',
        "a better description for agents",
    ),
    Edit(
        f"{PACKAGE}/custom.py",
        "from typing import TYPE_CHECKING\n",
        "from typing import TYPE_CHECKING\n\nfrom mcp.types import TextContent\n",
        "a hook in custom.py (1/2): its import",
    ),
    Edit(
        f"{PACKAGE}/custom.py",
        '(by default unchanged)."""\n    return result\n',
        '(by default unchanged)."""\n'
        "    if reply.status == 404:\n"
        '        hint = "No such item: list_books and get_category show the ids that exist."\n'
        '        result.content.append(TextContent(type="text", text=hint))\n'
        "    return result\n",
        "a hook in custom.py (2/2): a hint for agents after a 404",
    ),
)


def regenerate(walkthrough: Path = WALKTHROUGH) -> None:
    """Rebuild everything in `walkthrough` but the two specs it must already hold."""
    for spec in SPECS:
        if not (walkthrough / spec).is_file():
            raise FileNotFoundError(f"{walkthrough / spec} is missing: the walkthrough's input")
    for stage in STAGES:
        shutil.rmtree(walkthrough / stage, ignore_errors=True)
    generate(walkthrough / "v1/project", walkthrough / SPECS[0])
    generate(walkthrough / "edited/project", walkthrough / SPECS[0])
    for edit in EDITS:
        _apply(walkthrough / "edited/project", edit)
    shutil.copytree(walkthrough / "edited/project", walkthrough / "merged/project")
    output = _mcpgen(walkthrough, "generate", SPECS[1], "-o", "merged/project")
    (walkthrough / "README.md").write_text(_readme(walkthrough, output), encoding="utf-8")


def _apply(project: Path, edit: Edit) -> None:
    path = project / edit.path
    text = path.read_text(encoding="utf-8")
    if text.count(edit.old) != 1:
        raise RuntimeError(
            f"the hand edit '{edit.why}' no longer applies: {edit.path} holds its text "
            f"{text.count(edit.old)} times, not once; update EDITS in {Path(__file__).name}"
        )
    path.write_text(text.replace(edit.old, edit.new), encoding="utf-8")


def _mcpgen(cwd: Path, *args: str) -> str:
    """Run the real command, as a user does; its output goes into the README."""
    done = subprocess.run(
        [sys.executable, "-m", "mcpgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "generator")},
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"mcpgen {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def _diff(old: Path, new: Path, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(
        old.read_text(encoding="utf-8").splitlines(keepends=True),
        new.read_text(encoding="utf-8").splitlines(keepends=True),
        old_name,
        new_name,
        n=2,
    )
    return "".join(lines)


def _edits_diff(walkthrough: Path) -> str:
    paths = sorted({edit.path for edit in EDITS})
    return "".join(
        _diff(
            walkthrough / "v1/project" / path,
            walkthrough / "edited/project" / path,
            f"v1/project/{path}",
            f"edited/project/{path}",
        )
        for path in paths
    )


def _readme(walkthrough: Path, output: str) -> str:
    spec_diff = _diff(walkthrough / SPECS[0], walkthrough / SPECS[1], SPECS[0], SPECS[1])
    return _README.format(
        edits="\n".join(f"- {edit.path}: {edit.why}" for edit in EDITS),
        edits_diff=_edits_diff(walkthrough).rstrip("\n"),
        spec_diff=spec_diff.rstrip("\n"),
        output=output.rstrip("\n"),
    )


_README = """\
# Walkthrough: re-run mcpgen after API changes

You generate an MCP server from your API's OpenAPI spec, commit it, and make it yours: a
tweak in a generated tool, a hook in `custom.py`. Then the API changes. You run
`mcpgen generate` again, and it merges the new generation into your project like a careful
`git merge`: your edits stay, the API's changes arrive, and it tells you what your agents will
notice.

The four folders here are one project at four moments (in real life it is one directory,
and the spec file is replaced in place):

| folder | what it is |
|---|---|
| `v1/openapi.yaml` | the API, version 1.4.0 |
| `v1/project/` | `mcpgen generate v1/openapi.yaml -o v1/project` |
| `edited/project/` | the same project after a few hand edits |
| `v2/openapi.yaml` | the API, version 1.5.0 |
| `merged/project/` | a copy of `edited/project/`, regenerated from `v2/openapi.yaml` |

Everything is rebuilt by `python scripts/update_walkthrough.py`, and a test checks that the
committed files are exactly what it builds.

## 1. Generate, commit

```console
$ mcpgen generate v1/openapi.yaml -o v1/project
$ cd v1/project && git init && git add -A && git commit -m "MCP server for the Bookshop API"
```

The project records how it was generated in `.mcpgen/`: `inputs.json` (the spec's path
relative to the project, the server name, the mcpgen version), `tools.json` (what agents see
of each tool) and `base.json` (the exact output of this generation, the base of the next
merge). Commit them with the rest.

## 2. Make it yours

Most customisation needs no edit to generated files: `custom.py` is created once and never
touched again, with hooks before and after each tool call and a place for hand-written tools.
Edits to generated files are fine too. The hand edits in `edited/project/`:

{edits}

```diff
{edits_diff}
```

## 3. The API changes

Version 1.5.0 adds `sort` to `listBooks` and a `GET /authors` operation, removes
`deleteBook`, makes `reviewer` a required field of a review, and turns author ids from
integers into strings:

<details><summary>the spec's diff</summary>

```diff
{spec_diff}
```

</details>

## 4. Re-run mcpgen

In your project, with the new spec in place, `mcpgen generate .` is enough: the inputs are
recorded. Here, where the new spec is a separate file, it is given (and recorded):

```console
$ mcpgen generate v2/openapi.yaml -o merged/project
{output}
```

Every hand edit survived: compare `merged/project/` with `edited/project/`. The generated
tool file you edited was merged (your tweak kept, the new `sort` argument added), the one
whose only change was yours was kept, `delete_book.py` was deleted because nobody had edited
it, and `list_authors.py` arrived. The report names the breaking changes, the ones an agent
that worked yesterday can trip over today.

When your edit and the new generation touch the same lines, the file gets conflict markers
with both sides, `git status` shows it as unmerged (`UU`), and a plain `git commit` refuses
until you resolve it; then run `mcpgen generate .` again. A generated file you deleted stays
deleted. A tool removed from the API whose file you edited is kept, marked whole, for you to
decide.

## 5. Keep it fresh in CI

```console
$ mcpgen check .          # exit 1 when the spec changed but the project was not regenerated,
                          # or conflict markers remain; no git needed
$ mcpgen generate . --dry-run --json   # what a re-run would change, for a bot or a PR comment
```
"""


def main() -> None:
    regenerate()
    print(f"{WALKTHROUGH.relative_to(ROOT)}: " + ", ".join(STAGES) + ", README.md")


if __name__ == "__main__":
    main()
