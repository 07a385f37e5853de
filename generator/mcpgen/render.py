"""Stage 4: IR → files, by copier, from the template shipped with mcpgen.

`view()` dumps the IR to plain data and adds the ready-made Python literals the templates
paste in (so templates never compute). `render()` runs copier into an empty temp directory
and returns the tree as bytes, with the datamodel-code-generator models beside it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import copier

from .format import format_tree
from .ir import Param, Project, Prompt, Tool

__all__ = ["Tree", "read_tree", "render", "render_tree", "template_dir", "view"]

Tree = dict[str, tuple[bytes, bool]]  # POSIX path → (content, executable)

_BODY_KEYWORDS = {"json": "json_body", "form": "form", "multipart": "form"}


def template_dir() -> Path:
    """The copier template: packaged beside the code, or the repository's `templates/`."""
    packaged = Path(__file__).parent / "_templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def _lit(value: Any) -> str:
    return repr(value)


def _param_view(param: Param) -> dict[str, Any]:
    data = param.model_dump(mode="json")
    data["lit"] = {"wire": _lit(param.wire), "style": _lit(param.style)}
    return data


def _hints(tool: Tool) -> str:
    a = tool.annotations
    words = ["read-only" if a.read_only else "writes"]
    if a.destructive:
        words.append("destructive")
    if a.idempotent:
        words.append("idempotent")
    return ", ".join(words)


def _tool_view(tool: Tool) -> dict[str, Any]:
    data = tool.model_dump(mode="json")
    arguments = {p.arg: p.py_name for p in tool.params}
    if tool.body is not None and not tool.body.flattened and tool.body.arg and tool.body.py_name:
        arguments[tool.body.arg] = tool.body.py_name
    a = tool.annotations
    data["lit"] = {
        "name": _lit(tool.name),
        "title": _lit(tool.title),
        "description": _lit(tool.description),
        "method": _lit(tool.method),
        "path": _lit(tool.path),
        "arguments": _lit(arguments),
        "input_schema": _lit(tool.input_schema),
        "output_schema": _lit(tool.output_schema),
        "read_only": _lit(a.read_only),
        "destructive": _lit(a.destructive),
        "idempotent": _lit(a.idempotent),
        "open_world": _lit(a.open_world),
        "security": _lit([list(alt) for alt in tool.security]),
        "kind": _lit(tool.kind),
        "uri": _lit(tool.uri),
        "fixed": _lit(tool.fixed),
        "keep_fields": _lit(tool.keep_fields),
    }
    for location in ("path", "query", "header", "cookie", "body"):
        data[f"{location}_params"] = [_param_view(p) for p in tool.params if p.location == location]
    if tool.sample is not None:
        data["sample_lit"] = {
            "arguments": _lit(tool.sample.arguments),
            "path": _lit(tool.sample.path),
            "reply": _lit(tool.sample.reply),
            "uri": _lit(tool.sample.uri),
        }
    data["body_keyword"] = _BODY_KEYWORDS[tool.body.encoding] if tool.body else None
    if tool.body is not None and tool.body.encoding == "multipart":
        body = [p for p in tool.params if p.location == "body"]
        data["body_params"] = [_param_view(p) for p in body if not p.file]
        data["file_params"] = [_param_view(p) for p in body if p.file]
        data["body_keyword"] = "form"
    data["hints"] = _hints(tool)
    return data


def _prompt_view(prompt: Prompt) -> dict[str, Any]:
    data = prompt.model_dump(mode="json")
    data["lit"] = {
        k: _lit(getattr(prompt, k)) for k in ("name", "title", "description", "template")
    }
    data["arguments"] = [
        {
            **a.model_dump(mode="json"),
            "lit": {k: _lit(getattr(a, k)) for k in ("name", "description", "required")},
        }
        for a in prompt.arguments
    ]
    return data


def view(project: Project) -> dict[str, Any]:
    data = project.model_dump(mode="json")
    data["tools"] = [_tool_view(t) for t in project.tools]
    data["prompts"] = [_prompt_view(p) for p in project.prompts]
    data["lit"] = {
        "dist_name": _lit(project.dist_name),
        "version": _lit(project.version),
        "description": _lit(project.description),
        "server_name": _lit(project.server_name),
        "title": _lit(project.title),
        "instructions": _lit(project.instructions),
        "api_title": _lit(project.api_title),
        "exposure": _lit(project.exposure),
    }
    # TOML basic strings share JSON's escapes (and accept any other Unicode as is).
    data["toml"] = {
        "dist_name": json.dumps(project.dist_name, ensure_ascii=False),
        "version": json.dumps(project.package_version),
        "description": json.dumps(project.description, ensure_ascii=False),
    }
    return data


def read_tree(root: Path) -> Tree:
    tree: Tree = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            executable = bool(path.stat().st_mode & 0o111)
            tree[path.relative_to(root).as_posix()] = (path.read_bytes(), executable)
    return tree


def render(project: Project, models: str | Callable[[], str], out: Path) -> None:
    """Render the project into the empty directory `out`."""
    copier.run_copy(
        str(template_dir()),
        str(out),
        data={"project": view(project)},
        defaults=True,
        overwrite=True,
        quiet=True,
        unsafe=False,
        settings=copier.Settings(),
    )
    source = models if isinstance(models, str) else models()
    (out / "src" / project.package / "models.py").write_text(source, encoding="utf-8")


def render_tree(project: Project, models: str | Callable[[], str]) -> Tree:
    """Render and format into a temp directory; return the finished tree.

    `models` may be a callable, asked for the models' source only after copier has run.
    """
    with tempfile.TemporaryDirectory(prefix="mcpgen-render-") as tmp:
        out = Path(tmp) / "project"
        render(project, models, out)
        format_tree(out)
        return read_tree(out)
