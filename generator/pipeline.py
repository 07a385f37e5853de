"""The whole pipeline in one place: load → validate → IR → render → format → write.

Each stage is its own module; this one only wires them together for the CLI and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .build import BuildOptions, build_project
from .errors import McpgenError, Report
from .ir import Project
from .load import load_document
from .models import generate_models
from .render import Tree, render_tree
from .spec import Spec, validate

__all__ = ["Generated", "build", "generate", "load_spec", "write_new"]


@dataclass(frozen=True)
class Generated:
    project: Project
    tree: Tree
    report: Report


def load_spec(spec_path: Path, display: str | None = None) -> Spec:
    return validate(load_document(spec_path, display))


def build(spec_path: Path, options: BuildOptions, display: str | None = None) -> Generated:
    """Everything short of writing: the IR and the finished, formatted file tree."""
    report = Report()
    spec = load_spec(spec_path, display)
    project = build_project(spec, options, report)
    models = generate_models(spec.data, report, spec.source.display)
    tree = render_tree(project, models)
    return Generated(project=project, tree=tree, report=report)


def write_new(tree: Tree, out: Path) -> None:
    """Write a first generation into a missing or empty directory; never overwrite."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise McpgenError.single(
            "exists",
            "the output directory exists and is not empty; mcpgen writes only into an empty "
            "or missing directory",
            file=str(out),
        )
    for name, (content, executable) in sorted(tree.items()):
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        if executable:
            target.chmod(0o755)


def generate(spec_path: Path, out: Path, options: BuildOptions) -> Generated:
    generated = build(spec_path, options)
    write_new(generated.tree, out)
    return generated
