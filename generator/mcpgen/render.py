"""Stage 4: IR → files, by copier, from the template shipped with mcpgen.

One copier pass renders the project's own files and, into one bundle file, the module of
every operation asked for; the bundle is split into `src/<package>/tools/<module>.py` (one
file per operation, without copier's per-file work: path rendering, a write, a git call).
The runtime modules the project uses are copied verbatim into its `runtime/` package and the
models written beside them. `render_tree()` formats what was rendered and returns it as
bytes, together with the files `reuse` hands over unchanged from the last generation;
`tools/listing.json` (which needs the formatted modules' digests) is made last, from the
finished tree.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import traceback
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import McpgenError
from .escape import json_value
from .files import RenderedFile
from .format import format_tree
from .ir import LISTING_FORMAT

if TYPE_CHECKING:
    import jinja2

    from .ir import Project, Tool

__all__ = [
    "BUNDLE",
    "RUNTIME",
    "Models",
    "Tree",
    "listing_text",
    "models_path",
    "operation_path",
    "read_tree",
    "render",
    "render_tree",
    "source_digest",
    "template_dir",
    "view",
]

Tree = dict[str, tuple[bytes, bool]]  # POSIX path → (content, executable)
Models = str | Callable[[], str] | None  # models.py's source, asked for late; None: no models.py

RUNTIME = Path(__file__).parent / "runtime"
BUNDLE = ".mcpgen-operations"  # the template's bundle of operation modules, split by render()
# Control characters: every filter of mcpgen.escape writes them as escapes, so no value from a
# spec or mapping can put one at the start of a line of the bundle.
_SEPARATOR = "\x1f\x1emcpgen-file\x1e"
# Computed fields that list some of the tools again: each tool is dumped once, and these lists
# hold the same dumps.
_REPEATED = ("operations", "resources", "sampled_operations", "sampled_resources")


def template_dir() -> Path:
    """The copier template: packaged beside the code, or the repository's `templates/`."""
    packaged = Path(__file__).parent / "_templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def operation_path(project: Project, tool: Tool) -> str:
    """Where an operation's module lands in the project."""
    return f"src/{project.package}/tools/{tool.module}.py"


def models_path(project: Project) -> str:
    return f"src/{project.package}/models.py"


def view(project: Project) -> dict[str, Any]:
    """The IR as the plain data templates read (tuples stay tuples, for `py` literals)."""
    data = project.model_dump(mode="python", exclude=set(_REPEATED))
    dumped = {id(tool): entry for tool, entry in zip(project.tools, data["tools"], strict=True)}
    for key in _REPEATED:
        data[key] = tuple(dumped[id(tool)] for tool in getattr(project, key))
    return data


def read_tree(root: Path) -> Tree:
    tree: Tree = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            executable = bool(path.stat().st_mode & 0o111)
            tree[path.relative_to(root).as_posix()] = (path.read_bytes(), executable)
    return tree


def render(project: Project, models: Models, out: Path, *, skip: Collection[str] = ()) -> None:
    """Render the project into the empty directory `out`, leaving out the operation modules
    and models whose paths are in `skip` (they are reused from the last generation).

    A template that reads a variable the IR does not have fails here (StrictUndefined),
    naming the template file: that is a bug in mcpgen, never in the user's input.
    """
    data = view(project)
    operations = []
    for tool, dumped in zip(project.tools, data["tools"], strict=True):
        path = operation_path(project, tool)
        if path not in skip:
            operations.append({"path": path, "tool": dumped})
    _copy(data, operations, out)
    _split_bundle(out, [item["path"] for item in operations])
    package = out / "src" / project.package
    runtime = package / "runtime"
    runtime.mkdir()
    for module in project.runtime_modules:
        shutil.copyfile(RUNTIME / f"{module}.py", runtime / f"{module}.py")
    if models is not None and models_path(project) not in skip:
        source = models if isinstance(models, str) else models()
        (package / "models.py").write_text(source, encoding="utf-8")


def _copy(data: dict[str, Any], operations: list[dict[str, Any]], out: Path) -> None:
    import copier  # deferred: a run whose inputs did not change never renders
    import jinja2

    bundle = {"separator": _SEPARATOR, "operations": operations}
    try:
        copier.run_copy(
            str(template_dir()),
            str(out),
            data={"project": data, "bundle": bundle},
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


def _split_bundle(out: Path, expected: list[str]) -> None:
    """Write each module of the bundle to its own file, then remove the bundle."""
    bundle = out / BUNDLE
    text = bundle.read_text(encoding="utf-8")
    bundle.unlink()
    chunks = text.split("\n" + _SEPARATOR)
    if chunks[0].startswith(_SEPARATOR):
        chunks[0] = chunks[0].removeprefix(_SEPARATOR)
    elif chunks[0].strip():
        raise _bundle_error("text before the first module")
    else:
        chunks.pop(0)
    paths = []
    for chunk in chunks:
        path, _, module = chunk.partition("\n")
        paths.append(path)
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(module, encoding="utf-8")
    if paths != expected:
        raise _bundle_error(f"{len(paths)} modules where {len(expected)} were asked for")


def _bundle_error(what: str) -> McpgenError:
    return McpgenError.single(
        "template",
        f"the operation bundle of the project template is malformed ({what}); this is a bug "
        "in mcpgen, please report it with the spec",
        file=str(template_dir() / "project" / f"{BUNDLE}.jinja"),
    )


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


_SHM = Path("/dev/shm")
_SHM_FREE = 512 * 2**20  # leave a small /dev/shm (containers often give 64 MiB) alone


def _scratch() -> str | None:
    """Where to render: in memory (`/dev/shm`) when the system offers room there and TMPDIR
    names no other place, since the render is written, formatted and read back at once
    (GitHub: 1,245 files); else the usual temporary directory."""
    if os.environ.get("TMPDIR") or not _SHM.is_dir() or not os.access(_SHM, os.W_OK | os.X_OK):
        return None
    try:
        stats = os.statvfs(_SHM)
    except OSError:
        return None
    return str(_SHM) if stats.f_bavail * stats.f_frsize >= _SHM_FREE else None


def render_tree(
    project: Project, models: Models, reuse: Mapping[str, RenderedFile] | None = None
) -> Tree:
    """Render and format into a temp directory; return the finished tree.

    `models` may be a callable, asked for the models' source only after copier has run.
    Files in `reuse` (operation modules and models only) are taken as they are: neither
    rendered nor formatted again.
    """
    kept = dict(reuse or {})
    with tempfile.TemporaryDirectory(prefix="mcpgen-render-", dir=_scratch()) as tmp:
        out = Path(tmp) / "project"
        render(project, models, out, skip=kept)
        format_tree(out)
        tree = read_tree(out)
    for path, file in kept.items():
        tree[path] = (file.content, file.executable)
    tools = f"src/{project.package}/tools"
    entries = [
        (tool.listing, source_digest(tree[f"{tools}/{tool.module}.py"][0]))
        for tool in project.tools
    ]
    tree[f"{tools}/listing.json"] = (listing_text(entries).encode("utf-8"), False)
    return dict(sorted(tree.items()))


def source_digest(source: bytes) -> str:
    """The digest `tools/listing.json` records of a tool module's source (line ends
    normalised); the runtime's `definitions.source_digest` computes the same."""
    return hashlib.sha256(source.replace(b"\r\n", b"\n")).hexdigest()[:16]


def listing_text(entries: list[tuple[dict[str, Any], str]]) -> str:
    """`tools/listing.json`: every operation as tools/list shows it, one a line, with the
    digest of the module that defines it. The server lists tools from this file without
    importing their modules; a module whose source no longer has its digest (edited by
    hand) is imported at start-up instead, so an edit there shows in tools/list.

    Each line ends with `"tool": ` and the tool's compact JSON, the very bytes tools/list
    sends: the runtime slices them out without decoding them
    (`runtime.definitions.Catalog.read`)."""
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
