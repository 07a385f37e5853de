"""The whole pipeline in one place: load → validate → IR → render → format → merge.

Each stage is its own module; this one only wires them together for the CLI and tests.
A first run and every later run go through the same merge (`regen.apply`), which records
the generation under `.mcpgen/` so that the next run needs no arguments.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from . import __version__, render
from .changes import AgentChanges, Summaries, compare, summarize
from .errors import Diagnostic, Level, McpgenError, Report, diagnostic_json
from .ir import Project
from .load import load_document, read_source
from .mapping import load_mapping
from .migrations import custom_import_warnings, moves_for
from .models import ModelsJob
from .plan import Plan, make_plan
from .progress import Progress
from .records import BASE_PATH, INPUTS_PATH, TOOLS_PATH, dump_inputs, dump_tools, load_tools
from .regen import (
    MergeResult,
    RenderedFile,
    apply,
    find_conflict_markers,
    is_stale,
    pending_moves,
)
from .regen.inputs import Inputs, is_newer, record_inputs, resolve
from .render import Tree, render_tree
from .spec import Spec, validate
from .translate import TranslateOptions, translate_project

__all__ = [
    "JSON_FORMAT",
    "Checked",
    "Generated",
    "Outcome",
    "check",
    "generate",
    "generate_tree",
    "load_spec",
    "plan",
    "user_owned_patterns",
]


JSON_FORMAT = 2
"""The shape of every `--json` document (generate, check, plan, and the error document).
2: all errors and warnings in one `diagnostics` list (1 also had `warnings` strings)."""


@dataclass(frozen=True)
class Generated:
    project: Project
    tree: Tree
    report: Report


@dataclass(frozen=True)
class Outcome:
    """One `generate` run: what was built, what the merge did, what agents will notice."""

    generated: Generated
    merge: MergeResult
    agents: AgentChanges
    diagnostics: tuple[Diagnostic, ...]  # the translation's warnings, the merge's, the run's
    first: bool  # the directory held no generation before
    dry_run: bool

    def to_json(self, project_dir: Path, *, exit_code: int) -> dict[str, Any]:
        counts = Counter(change.action for change in self.merge.changes)
        return {
            "agents": self.agents.to_json(),
            "command": "generate",
            "conflicts": list(self.merge.conflicts),
            "diagnostics": [diagnostic_json(d) for d in self.diagnostics],
            "dry_run": self.dry_run,
            "exit_code": exit_code,
            "files": [
                {"action": c.action, "detail": c.detail, "path": c.path} for c in self.merge.changes
            ],
            "first_generation": self.first,
            "format": JSON_FORMAT,
            "project": str(project_dir),
            "server": _server_json(self.generated.project),
            "summary": dict(sorted(counts.items())),
            "wrote": self.merge.wrote,
        }


@dataclass(frozen=True)
class Checked:
    """One `check` run: why the project is stale, where conflict markers remain, and which
    edits a layout change set aside still wait to be ported."""

    generated: Generated
    stale: tuple[str, ...]
    markers: tuple[str, ...]
    agents: AgentChanges
    diagnostics: tuple[Diagnostic, ...]  # the translation's warnings and the run's
    moved: tuple[str, ...] = ()  # set-aside files (`*.mcpgen-moved`) still in the project

    @property
    def ok(self) -> bool:
        return not self.stale and not self.markers and not self.moved

    def to_json(self, project_dir: Path, *, exit_code: int) -> dict[str, Any]:
        return {
            "agents": self.agents.to_json(),
            "command": "check",
            "conflict_markers": list(self.markers),
            "diagnostics": [diagnostic_json(d) for d in self.diagnostics],
            "exit_code": exit_code,
            "format": JSON_FORMAT,
            "moved_aside": list(self.moved),
            "project": str(project_dir),
            "server": _server_json(self.generated.project),
            "stale": list(self.stale),
            "up_to_date": self.ok,
        }


def _server_json(project: Project) -> dict[str, Any]:
    return {
        "name": project.server_name,
        "package": project.package,
        "script": project.script,
        "tools": len(project.tools),
    }


def load_spec(spec_path: Path, display: str | None = None) -> Spec:
    return validate(load_document(spec_path, display))


def generate_tree(
    spec_path: Path,
    options: TranslateOptions,
    display: str | None = None,
    mapping: Path | None = None,
) -> Generated:
    """Everything short of writing: the IR and the finished, formatted file tree.

    A `mapping` file, when given, replaces `options.mapping`.
    """
    if mapping is not None:
        model, source = load_mapping(mapping, os.path.normpath(mapping))
        options = replace(options, mapping=model, mapping_source=source)
    report = Report()
    progress = Progress()
    progress.step(f"loading {display or spec_path}")
    spec = load_spec(spec_path, display)
    models = ModelsJob(spec.data, report, spec.source.display)
    progress.step(f"building tools for {len(spec.data.get('paths') or {})} paths")
    project = translate_project(spec, options, report)
    progress.step(f"rendering and formatting {len(project.tools)} operations")
    tree = render_tree(project, models.result)
    progress.step(f"merging {len(tree)} files")
    return Generated(project=project, tree=tree, report=report)


def plan(spec_path: Path, options: TranslateOptions, mapping: Path | None = None) -> Plan:
    """`mcpgen plan`: load, validate and translate (nothing is rendered), then tabulate."""
    source = None
    if mapping is not None:
        model, source = load_mapping(mapping, os.path.normpath(mapping))
        options = replace(options, mapping=model, mapping_source=source)
    report = Report()
    spec = load_spec(spec_path)
    project = translate_project(spec, options, report)
    shown = source.display if source is not None else None
    return make_plan(project, report, spec=spec.source.display, mapping=shown)


def generate(
    project_dir: Path,
    spec: Path | None = None,
    *,
    name: str | None = None,
    mapping: Path | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Generate into `project_dir`, merging with what is there; missing inputs are taken
    from the project's record, given ones override it and are recorded."""
    inputs = resolve(project_dir, spec, mapping, name)
    first = not (project_dir / BASE_PATH).exists()
    generated = _generate_from(inputs)
    summaries = summarize(generated.project)
    agents, agents_warnings = _agent_changes(project_dir, summaries)
    merge = apply(
        project_dir,
        _rendered(generated.tree),
        user_owned=user_owned_patterns(),
        dry_run=dry_run,
        extra_files=_records(project_dir, inputs, generated.project, summaries),
        moves=moves_for,
    )
    return Outcome(
        generated=generated,
        merge=merge,
        agents=agents,
        diagnostics=(
            *generated.report.warnings,
            *_in_project(project_dir, merge.warnings),
            *_in_project(project_dir, custom_import_warnings(project_dir)),
            *_version_warning(project_dir, inputs),
            *agents_warnings,
        ),
        first=first,
        dry_run=dry_run,
    )


def check(project_dir: Path) -> Checked:
    """Re-render from the recorded inputs in memory and compare with the project; no git."""
    if not project_dir.is_dir():
        raise McpgenError.single("not-found", "no such directory", file=str(project_dir))
    inputs = resolve(project_dir, None, None, None)
    generated = _generate_from(inputs)
    summaries = summarize(generated.project)
    agents, agents_warnings = _agent_changes(project_dir, summaries)
    stale = is_stale(project_dir, _rendered(generated.tree))
    records = _records(project_dir, inputs, generated.project, summaries)
    for path, content in sorted(records.items()):
        current = project_dir / path
        if not current.is_file() or current.read_bytes() != content:
            stale.append(f"{path} would change")
    return Checked(
        generated=generated,
        stale=tuple(stale),
        markers=tuple(find_conflict_markers(project_dir)),
        agents=agents,
        diagnostics=(
            *generated.report.warnings,
            *_in_project(project_dir, custom_import_warnings(project_dir)),
            *_version_warning(project_dir, inputs),
            *agents_warnings,
        ),
        moved=tuple(pending_moves(project_dir)),
    )


def user_owned_patterns() -> tuple[str, ...]:
    """The template's user-owned files: its copier `_skip_if_exists` patterns."""
    path = render.template_dir() / "copier.yml"
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise McpgenError.single(
            "template", f"cannot read the template's settings ({exc})", file=str(path)
        ) from None
    patterns = data.get("_skip_if_exists") if isinstance(data, dict) else None
    if patterns is None:
        return ()
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise McpgenError.single(
            "template", "_skip_if_exists is not a list of patterns", file=str(path)
        )
    return tuple(patterns)


def _generate_from(inputs: Inputs) -> Generated:
    """Generate from `inputs`. The name: given, else the mapping's, else the recorded one (so a
    changed `info.title` never renames the package), else one from `info.title`."""
    options = TranslateOptions(name=inputs.name)
    if inputs.mapping is not None:
        model, source = load_mapping(inputs.mapping, os.path.normpath(inputs.mapping))
        options = replace(options, mapping=model, mapping_source=source)
    if options.name is None and not options.mapping.server.name and inputs.recorded:
        options = replace(options, name=inputs.recorded.name)
    return generate_tree(inputs.spec, options, os.path.normpath(inputs.spec))


def _records(
    project_dir: Path, inputs: Inputs, project: Project, summaries: Summaries
) -> dict[str, bytes]:
    """What a run records under `.mcpgen/` besides the base."""
    return {
        INPUTS_PATH: dump_inputs(
            record_inputs(project_dir, inputs, project.server_name, __version__)
        ),
        TOOLS_PATH: dump_tools(summaries),
    }


def _agent_changes(
    project_dir: Path, summaries: Summaries
) -> tuple[AgentChanges, list[Diagnostic]]:
    """The tools' changes since the recorded summary (and why they are unknown, if so)."""
    old, problem = load_tools(project_dir)
    return compare(old, summaries), [problem] if problem else []


def _in_project(project_dir: Path, diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The merge's diagnostics, their project-relative files named as the project was."""
    return [replace(d, file=str(project_dir / (d.file or "."))) for d in diagnostics]


def _rendered(tree: Tree) -> dict[str, RenderedFile]:
    return {path: RenderedFile(content, executable) for path, (content, executable) in tree.items()}


def _version_warning(project_dir: Path, inputs: Inputs) -> list[Diagnostic]:
    """A warning, at the recorded version, when a newer mcpgen generated the project."""
    recorded = inputs.recorded
    if recorded is None or not is_newer(recorded.mcpgen_version, __version__):
        return []
    record = read_source(project_dir / INPUTS_PATH)
    pointer = "/mcpgen_version"
    message = (
        f"this project was generated by mcpgen {recorded.mcpgen_version}, newer than this "
        f"mcpgen {__version__}; generating with the older one may undo template changes"
    )
    return [
        Diagnostic(
            Level.WARNING,
            "newer-mcpgen",
            message,
            file=record.display,
            pointer=pointer,
            line=record.line_of(pointer),
        )
    ]
