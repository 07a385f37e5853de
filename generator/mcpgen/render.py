"""Stage 4: IR → files, by copier, from the template shipped with mcpgen.

`render()` runs copier into an empty directory with the IR as its only data, copies the
runtime modules the project uses verbatim into its `runtime/` package, and writes the
datamodel-code-generator models beside them. `render_tree()` formats the result, writes
`tools/listing.json` (which needs the formatted modules' digests) and returns it as bytes.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier
import jinja2

from .errors import McpgenError
from .escape import json_value
from .format import format_tree
from .ir import LISTING_FORMAT, Project

__all__ = [
    "RUNTIME",
    "Tree",
    "listing_text",
    "read_tree",
    "render",
    "render_tree",
    "source_digest",
    "template_dir",
    "view",
    "write_listing",
]

Tree = dict[str, tuple[bytes, bool]]  # POSIX path → (content, executable)

RUNTIME = Path(__file__).parent / "runtime"


def template_dir() -> Path:
    """The copier template: packaged beside the code, or the repository's `templates/`."""
    packaged = Path(__file__).parent / "_templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def view(project: Project) -> dict[str, Any]:
    """The IR as the plain data templates read (tuples stay tuples, for `py` literals)."""
    return project.model_dump(mode="python")


def read_tree(root: Path) -> Tree:
    tree: Tree = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            executable = bool(path.stat().st_mode & 0o111)
            tree[path.relative_to(root).as_posix()] = (path.read_bytes(), executable)
    return tree


def render(project: Project, models: str | Callable[[], str], out: Path) -> None:
    """Render the project into the empty directory `out`.

    A template that reads a variable the IR does not have fails here (StrictUndefined),
    naming the template file: that is a bug in mcpgen, never in the user's input.
    """
    try:
        copier.run_copy(
            str(template_dir()),
            str(out),
            data={"project": view(project)},
            defaults=True,
            overwrite=True,
            quiet=True,
            # The template is mcpgen's own, shipped inside the package: its one "unsafe"
            # feature is the Jinja extension of mcpgen.escape. It runs no tasks or migrations.
            unsafe=True,
            settings=copier.Settings(),
        )
    except jinja2.TemplateError as exc:
        raise _template_error(exc) from None
    package = out / "src" / project.package
    runtime = package / "runtime"
    runtime.mkdir()
    for module in project.runtime_modules:
        shutil.copyfile(RUNTIME / f"{module}.py", runtime / f"{module}.py")
    source = models if isinstance(models, str) else models()
    (package / "models.py").write_text(source, encoding="utf-8")


def _template_error(exc: jinja2.TemplateError) -> McpgenError:
    """Where the failing template is, as far as Jinja knows it (its frames name the file)."""
    frames = traceback.extract_tb(exc.__traceback__)
    templates = [f for f in frames if f.filename.endswith(".jinja")]
    place = templates[-1] if templates else None
    return McpgenError.single(
        "template",
        f"the project template failed to render ({type(exc).__name__}: {exc}); this is a bug "
        "in mcpgen, please report it with the spec",
        file=place.filename if place else str(template_dir()),
        line=place.lineno if place else None,
    )


def render_tree(project: Project, models: str | Callable[[], str]) -> Tree:
    """Render and format into a temp directory; return the finished tree.

    `models` may be a callable, asked for the models' source only after copier has run.
    """
    with tempfile.TemporaryDirectory(prefix="mcpgen-render-") as tmp:
        out = Path(tmp) / "project"
        render(project, models, out)
        format_tree(out)
        write_listing(project, out)
        return read_tree(out)


def source_digest(source: bytes) -> str:
    """The digest `tools/listing.json` records of a tool module's source (line ends
    normalised); the runtime's `definitions.source_digest` computes the same."""
    return hashlib.sha256(source.replace(b"\r\n", b"\n")).hexdigest()[:16]


def write_listing(project: Project, out: Path) -> None:
    """`tools/listing.json`: every operation as tools/list shows it, one a line, with the
    digest of the module that defines it. The server lists tools from this file without
    importing their modules; a module whose source no longer has its digest (edited by
    hand) is imported at start-up instead, so an edit there shows in tools/list.

    Each line ends with `"tool": ` and the tool's compact JSON, the very bytes tools/list
    sends: the runtime slices them out without decoding them
    (`runtime.definitions.Catalog.read`)."""
    tools = out / "src" / project.package / "tools"
    entries = [
        (tool.listing, source_digest((tools / f"{tool.module}.py").read_bytes()))
        for tool in project.tools
    ]
    (tools / "listing.json").write_text(listing_text(entries), encoding="utf-8")


def listing_text(entries: list[tuple[dict[str, Any], str]]) -> str:
    """listing.json from each operation's `Tool.listing` and its module's digest."""
    lines = []
    for listing, digest in entries:
        entry = dict(listing)
        wire = entry.pop("tool")
        head = json_value({"name": entry["name"], "digest": digest, **entry})
        lines.append(f'{head[:-1]}, "tool": {json_value(wire, compact=True)}}}')
    body = "".join(f"{line},\n" for line in lines[:-1]) + "".join(
        f"{line}\n" for line in lines[-1:]
    )
    return f'{{"format": {LISTING_FORMAT}, "operations": [\n{body}]}}\n'
