"""The whole pipeline in one place: load → validate → IR → render → format → merge.

Each stage is its own module; this one only wires them together for the CLI and tests.
A first run and every later run go through the same merge (`regen.apply`), which records
the generation under `.mcpgen/` so that the next run needs no arguments.

A re-run whose inputs are unchanged (`incremental.unchanged`: same digest as the last
generation) skips loading and rendering: the last generation's output, from the base, is
merged again, so edits and deletions in the project are reported exactly as after a full
render. Any other run reuses the operation modules and models whose sources did not change.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from . import __version__, render
from .changes import AgentChanges, Summaries, compare, summarize
from .digests import output_digest, source_digest, template_digest
from .errors import Diagnostic, Level, McpgenError, Report, diagnostic_json
from .files import RenderedFile
from .incremental import Last, chosen_name, digest_of_inputs, last_generation, unchanged
from .load import InputFiles, Source, load_document, read_source
from .migrations import custom_import_warnings, moves_for
from .naming import project_names
from .progress import Progress
from .records import (
    BASE_PATH,
    DIGESTS_PATH,
    INPUTS_PATH,
    TOOLS_PATH,
    Digests,
    dump_digests,
    dump_inputs,
    dump_tools,
    load_base,
    load_tools,
)
from .regen import (
    MergeResult,
    apply,
    base_files,
    find_conflict_markers,
    interrupted_run,
    is_stale,
    pending_moves,
)
from .regen.inputs import Inputs, is_newer, record_inputs, relative, resolve
from .render import Tree, models_path, operation_path, render_tree

if TYPE_CHECKING:
    from .ir import Project
    from .models import ModelsJob
    from .plan import Plan
    from .spec import Spec
    from .translate import TranslateOptions

# The spec, mapping, IR and translation modules are imported where they are needed: a run
# whose inputs are unchanged needs none of them (nor pydantic, openapi-pydantic, copier).

__all__ = [
    "JSON_FORMAT",
    "Checked",
    "Generated",
    "Outcome",
    "Server",
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
    sources: Mapping[str, str] = field(default_factory=dict)  # path → source digest
    spec_files: tuple[Path, ...] = ()  # the spec, then each file its $refs bundled
    inputs: str = ""  # the digest of the inputs, as read for this generation


@dataclass(frozen=True)
class Server:
    """The generated server, as the CLI reports it."""

    name: str
    package: str
    script: str
    tools: int

    @classmethod
    def of(cls, project: Project) -> Server:
        return cls(project.server_name, project.package, project.script, len(project.tools))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "package": self.package,
            "script": self.script,
            "tools": self.tools,
        }


@dataclass(frozen=True)
class Outcome:
    """One `generate` run: what was built, what the merge did, what agents will notice."""

    server: Server
    merge: MergeResult
    agents: AgentChanges
    diagnostics: tuple[Diagnostic, ...]  # the translation's warnings, the merge's, the run's
    first: bool  # the directory held no generation before
    dry_run: bool
    generated: Generated | None = None  # None when the inputs were unchanged: nothing rendered

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
            "inputs_unchanged": self.generated is None,
            "project": str(project_dir),
            "server": self.server.to_json(),
            "summary": dict(sorted(counts.items())),
            "wrote": self.merge.wrote,
        }


@dataclass(frozen=True)
class Checked:
    """One `check` run: why the project is stale, where conflict markers remain, and which
    edits a layout change set aside still wait to be ported."""

    server: Server
    stale: tuple[str, ...]
    markers: tuple[str, ...]
    agents: AgentChanges
    diagnostics: tuple[Diagnostic, ...]  # the translation's warnings and the run's
    moved: tuple[str, ...] = ()  # set-aside files (`*.mcpgen-moved`) still in the project
    generated: Generated | None = None  # None when the inputs were unchanged: nothing rendered

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
            "inputs_unchanged": self.generated is None,
            "moved_aside": list(self.moved),
            "project": str(project_dir),
            "server": self.server.to_json(),
            "stale": list(self.stale),
            "up_to_date": self.ok,
        }


def load_spec(spec_path: Path, display: str | None = None) -> Spec:
    from .spec import validate  # deferred: openapi-pydantic is slow to import

    return validate(load_document(spec_path, display))


def generate_tree(
    spec_path: Path,
    options: TranslateOptions,
    display: str | None = None,
    last: Last | None = None,
    files: InputFiles | None = None,
) -> Generated:
    """Everything short of writing: the IR and the finished, formatted file tree.

    Operation modules and models whose sources are those `last` recorded are taken from its
    base, not rendered again. The spec and the files it refers to are read through `files`
    (the run's, when it read some of them already): the inputs digest of the result is that
    of the bytes it was made from. The spec is validated in a second process while it is
    translated.
    """
    from .spec import start_validation

    report = Report()
    progress = Progress()
    progress.step(f"loading {display or spec_path}")
    spec, validation = start_validation(load_document(spec_path, display, files))
    template = template_digest(render.template_dir(), render.RUNTIME)
    models: _Models | None = None
    try:
        try:
            models = _Models.of(spec, options, report, template, last)
            progress.step(f"building tools for {len(spec.data.get('paths') or {})} paths")
            project = _translate(spec, options, report)
        finally:
            # The translation of an invalid document may fail in any way: the document's
            # located errors, raised when its validation finishes, replace that failure.
            validation.finish()
        sources = {
            operation_path(project, tool): source_digest(
                template, "operation", tool.model_dump_json(), project.spec_file
            )
            for tool in project.tools
        }
        if models is not None:
            sources[models_path(project)] = models.digest
        reuse = last.reusable(sources) if last is not None else {}
        ask = None if models is None or models_path(project) in reuse else models.result
        progress.step(f"rendering and formatting {len(project.tools)} operations")
        tree = render_tree(project, ask, reuse)
    finally:
        if models is not None:
            models.close()
    progress.step(f"merging {len(tree)} files")
    paths = (spec.source.path, *(s.path for s in spec.source.bundled.values()))
    mapping = options.mapping_source.raw if options.mapping_source is not None else None
    inputs = digest_of_inputs(spec.source.contents, mapping, project.server_name)
    return Generated(project, tree, report, sources, paths, inputs)


class _Models:
    """models.py for one run: started early when it must be generated, else never."""

    def __init__(self, source: bytes, report: Report, file: str, template: str) -> None:
        self.source, self.report, self.file = source, report, file
        self.digest = source_digest(template, "models", source)
        self._job: ModelsJob | None = None

    @classmethod
    def of(
        cls, spec: Spec, options: TranslateOptions, report: Report, template: str, last: Last | None
    ) -> _Models | None:
        """The run's models, None when the project has none; generation starts now (in the
        background for large schemas) unless the last generation recorded the same source."""
        from .models import models_source, wanted

        if options.mapping.models is False:
            return None
        source = models_source(spec.data)
        if not wanted(options.mapping.models, source, report, spec.source.display):
            return None
        models = cls(source, report, spec.source.display, template)
        if last is None or models.digest not in last.digests.files.values():
            models.start()
        return models

    def start(self) -> ModelsJob:
        from .models import ModelsJob

        if self._job is None:
            self._job = ModelsJob(self.source, self.report, self.file)
        return self._job

    def result(self) -> str:
        return self.start().result()

    def close(self) -> None:
        if self._job is not None:
            self._job.close()


def _translate(spec: Spec, options: TranslateOptions, report: Report) -> Project:
    from .translate import translate_project

    return translate_project(spec, options, report)


def plan(spec_path: Path, options: TranslateOptions, mapping: Path | None = None) -> Plan:
    """`mcpgen plan`: load, validate and translate (nothing is rendered), then tabulate."""
    from .plan import make_plan
    from .translate import translate_project

    source = _read_mapping(mapping, InputFiles())
    options = _with_mapping(options, source)
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
    files = InputFiles()  # every input is read once, through this
    first = not (project_dir / BASE_PATH).exists()
    last, base = last_generation(project_dir) if not first else (None, None)
    mapping_file = _read_mapping(inputs.mapping, files)
    same = unchanged(project_dir, inputs, last, files, mapping_file) if last is not None else None
    patterns = user_owned_patterns()
    if last is not None and same is not None:
        rendered = _reused_output(project_dir, last)
        records, server, agents, problems = _again(project_dir, inputs, last, same)
        generated = None
        warnings = _replayed(project_dir, last)
    else:
        generated = _generate_from(inputs, last, files, mapping_file)
        summaries = summarize(generated.project)
        agents, problems = _agent_changes(project_dir, summaries, last)
        rendered = _rendered(generated.tree)
        records = _records(project_dir, inputs, generated, rendered, summaries, patterns)
        server, warnings = Server.of(generated.project), tuple(generated.report.warnings)
    merge = apply(
        project_dir,
        rendered,
        user_owned=patterns,
        dry_run=dry_run,
        extra_files=records,
        moves=moves_for,
        base=base,
    )
    return Outcome(
        server=server,
        merge=merge,
        agents=agents,
        diagnostics=(
            *warnings,
            *_in_project(project_dir, merge.warnings),
            *_in_project(project_dir, custom_import_warnings(project_dir)),
            *_version_warning(project_dir, inputs),
            *problems,
        ),
        first=first,
        dry_run=dry_run,
        generated=generated,
    )


def check(project_dir: Path) -> Checked:
    """Compare the project with what its recorded inputs generate; no git. Unchanged inputs
    need no render: the last generation is what they give."""
    if not project_dir.is_dir():
        raise McpgenError.single("not-found", "no such directory", file=str(project_dir))
    inputs = resolve(project_dir, None, None, None)
    files = InputFiles()  # every input is read once, through this
    last, loaded = last_generation(project_dir)
    base = loaded if loaded is not None else load_base(project_dir)
    mapping_file = _read_mapping(inputs.mapping, files)
    same = unchanged(project_dir, inputs, last, files, mapping_file) if last is not None else None
    generated = None
    if last is not None and same is not None:
        records, server, agents, problems = _again(project_dir, inputs, last, same)
        stale = interrupted_run(project_dir)
        warnings = _replayed(project_dir, last)
    else:
        generated = _generate_from(inputs, last, files, mapping_file)
        summaries = summarize(generated.project)
        agents, problems = _agent_changes(project_dir, summaries, last)
        rendered = _rendered(generated.tree)
        stale = is_stale(project_dir, rendered, base=base)
        patterns = user_owned_patterns()
        records = _records(project_dir, inputs, generated, rendered, summaries, patterns)
        server, warnings = Server.of(generated.project), tuple(generated.report.warnings)
    for path, content in sorted(records.items()):
        current = project_dir / path
        if path != DIGESTS_PATH and (not current.is_file() or current.read_bytes() != content):
            stale.append(f"{path} would change")
    return Checked(
        server=server,
        stale=tuple(stale),
        markers=tuple(find_conflict_markers(project_dir, base=base)),
        agents=agents,
        diagnostics=(
            *warnings,
            *_in_project(project_dir, custom_import_warnings(project_dir)),
            *_version_warning(project_dir, inputs),
            *problems,
        ),
        moved=tuple(pending_moves(project_dir, base=base)),
        generated=generated,
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


def _generate_from(
    inputs: Inputs, last: Last | None, files: InputFiles, mapping: Source | None
) -> Generated:
    """Generate from `inputs` (`mapping`: its mapping file as read), named by `chosen_name`,
    else from `info.title`."""
    from .translate import TranslateOptions

    options = _with_mapping(TranslateOptions(), mapping)
    options = replace(options, name=chosen_name(inputs, options.mapping.server.name))
    return generate_tree(inputs.spec, options, os.path.normpath(inputs.spec), last, files)


def _read_mapping(path: Path | None, files: InputFiles) -> Source | None:
    """The mapping file at `path`, read (through `files`) and parsed, not yet checked."""
    return read_source(path, os.path.normpath(path), files) if path is not None else None


def _with_mapping(options: TranslateOptions, mapping: Source | None) -> TranslateOptions:
    """`options` with the mapping of a read mapping file, checked, when there is one."""
    from .mapping import check_mapping

    if mapping is None:
        return options
    return replace(options, mapping=check_mapping(mapping), mapping_source=mapping)


def _reused_output(project_dir: Path, last: Last) -> dict[str, RenderedFile]:
    """What a run with the last generation's inputs renders: the base again, and the
    user-owned files as they are (they all exist: `unchanged` checked)."""
    rendered = dict(last.base.files)
    for path in last.digests.owned:
        full = project_dir / path
        rendered[path] = RenderedFile(full.read_bytes(), bool(full.stat().st_mode & 0o100))
    return rendered


def _again(
    project_dir: Path, inputs: Inputs, last: Last, name: str
) -> tuple[dict[str, bytes], Server, AgentChanges, list[Diagnostic]]:
    """A run with the last generation's inputs: its records are those recorded (its output
    is `_reused_output`)."""
    summaries, problem = load_tools(project_dir, last.tools)
    records = {
        INPUTS_PATH: dump_inputs(record_inputs(project_dir, inputs, name, __version__)),
        TOOLS_PATH: last.tools,
        DIGESTS_PATH: dump_digests(last.digests),
    }
    _, dist, package = project_names(name)
    server = Server(name, package, dist, len(summaries or {}))
    agents = compare(summaries, summaries or {})
    return records, server, agents, [problem] if problem else []


def _replayed(project_dir: Path, last: Last) -> tuple[Diagnostic, ...]:
    """The last translation's warnings, their files named as this run names them."""
    return tuple(
        replace(d, file=os.path.normpath(project_dir / d.file)) if d.file is not None else d
        for d in last.digests.warnings
    )


def _records(
    project_dir: Path,
    inputs: Inputs,
    generated: Generated,
    rendered: Mapping[str, RenderedFile],
    summaries: Summaries,
    patterns: Sequence[str],
) -> dict[str, bytes]:
    """What a run records under `.mcpgen/` besides the base (`rendered`: the generated tree;
    `patterns`: the user-owned files' globs, as the merge is given them)."""
    project = generated.project
    tools = dump_tools(summaries)
    output = base_files(rendered, patterns)  # exactly what the merge records as the base
    owned = [path for path in rendered if path not in output]
    refs = [relative(path, project_dir) for path in generated.spec_files[1:]]
    digests = Digests(
        inputs=generated.inputs,
        output=output_digest(output, tools),
        files=generated.sources,
        owned=tuple(owned),
        refs=tuple(refs),
        warnings=tuple(
            replace(d, file=relative(Path(d.file), project_dir)) if d.file is not None else d
            for d in generated.report.warnings
        ),
    )
    return {
        INPUTS_PATH: dump_inputs(
            record_inputs(project_dir, inputs, project.server_name, __version__)
        ),
        TOOLS_PATH: tools,
        DIGESTS_PATH: dump_digests(digests),
    }


def _agent_changes(
    project_dir: Path, summaries: Summaries, last: Last | None
) -> tuple[AgentChanges, list[Diagnostic]]:
    """The tools' changes since the recorded summary (and why they are unknown, if so); the
    summary's bytes are the last generation's when it was read for that."""
    old, problem = load_tools(project_dir, last.tools if last is not None else None)
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
