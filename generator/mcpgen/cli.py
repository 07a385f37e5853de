"""The `mcpgen` command: flags → pipeline → a printed report (or JSON) → exit code.

Exit codes: 0 ok; 1 findings (stale, conflicts); 2 bad input, with a located message.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from . import __version__
from .changes import render_text
from .errors import Diagnostic, McpgenError, diagnostic_json
from .pipeline import JSON_FORMAT, Checked, Outcome, load_spec
from .pipeline import check as run_check
from .pipeline import generate as run_generate
from .pipeline import plan as run_plan
from .regen import FileChange, MergeResult

__all__ = ["app", "main"]

app = typer.Typer(
    name="mcpgen",
    help="Generate a typed, deployable remote MCP server project from an OpenAPI description.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print(diagnostics: Sequence[Diagnostic]) -> None:
    """Every error and warning, one way, on stderr."""
    for diagnostic in diagnostics:
        typer.echo(diagnostic.render(), err=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mcpgen {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """mcpgen: OpenAPI + a small mapping → an MCP server project you own."""


_GENERATE_HELP = (
    "Generate the project, or merge a new generation into it like `git merge`.\n\n"
    "`mcpgen generate SPEC -o DIR` writes DIR, or merges into it when it is a project; "
    "`mcpgen generate DIR` re-runs with the spec, mapping and name recorded in "
    "DIR/.mcpgen/inputs.json (given ones override them and are recorded).\n\n"
    "Exit 0; 1 when conflicts were left to resolve; 2 on bad input."
)
_CHECK_HELP = (
    "Exit 1 when DIR is stale against its spec, mapping and mcpgen, or still holds conflict "
    "markers; 0 when up to date; 2 on bad input. Needs no git."
)


@app.command(help=_GENERATE_HELP, short_help="Generate a project, or merge into one.")
def generate(
    target: Annotated[
        Path | None,
        typer.Argument(
            help="SPEC, the OpenAPI 3.0/3.1 document (with -o DIR); or DIR, an existing "
            "project to regenerate from the inputs it records.",
            metavar="SPEC|DIR",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("-o", "--out", help="The project directory to write or merge into."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Server name (default: recorded, or from info.title)."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option("-m", "--mapping", help="The mapping file (mcpgen.yaml).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change; write nothing.")
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout (for CI).")
    ] = False,
) -> None:
    with _json_errors("generate", json_output):
        project_dir, spec = _generate_target(target, out)
        outcome = run_generate(project_dir, spec, name=name, mapping=mapping, dry_run=dry_run)
        code = 1 if outcome.merge.conflicts else 0
        _print(outcome.diagnostics)
        if json_output:
            _echo_json(outcome.to_json(project_dir, exit_code=code))
        else:
            _print_outcome(project_dir, outcome)
    if code:
        raise typer.Exit(code)


@app.command(help=_CHECK_HELP, short_help="Is the project stale, or left with conflicts?")
def check(
    project_dir: Annotated[
        Path, typer.Argument(help="The generated project.", metavar="DIR", show_default=False)
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout (for CI).")
    ] = False,
) -> None:
    with _json_errors("check", json_output):
        checked = run_check(project_dir)
        code = 0 if checked.ok else 1
        _print(checked.diagnostics)
        if json_output:
            _echo_json(checked.to_json(project_dir, exit_code=code))
        else:
            _print_checked(project_dir, checked)
    if code:
        raise typer.Exit(code)


@app.command(short_help="The tool table, token estimates and warnings.")
def plan(
    spec: Annotated[
        Path,
        typer.Argument(help="The OpenAPI 3.0/3.1 document.", metavar="SPEC", show_default=False),
    ],
    mapping: Annotated[
        Path | None, typer.Option("-m", "--mapping", help="The mapping file (mcpgen.yaml).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Server name.")] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout.")
    ] = False,
) -> None:
    """Show what a generation would expose: each tool's name, kind, source operation and
    estimated tokens (bytes of its tools/list entry / 4), the total, and warnings."""
    from .plan import render_plan
    from .translate import TranslateOptions

    with _json_errors("plan", json_output):
        table = run_plan(spec, TranslateOptions(name=name), mapping=mapping)
        _print(table.diagnostics)
        if json_output:
            document = {"command": "plan", "exit_code": 0, "format": JSON_FORMAT}
            _echo_json({**document, **table.to_json()})
        else:
            typer.echo(render_plan(table))


@app.command(short_help="Write a starter mcpgen.yaml for SPEC.")
def init(
    spec: Annotated[
        Path,
        typer.Argument(help="The OpenAPI 3.0/3.1 document.", metavar="SPEC", show_default=False),
    ],
    out: Annotated[
        Path | None, typer.Option("-o", "--out", help="Write here (default: standard output).")
    ] = None,
) -> None:
    """A starter mapping: rules grouped by tag, deprecated operations excluded, compact
    exposure suggested when the API is large. Never overwrites a file."""
    from .init import starter_mapping

    text = starter_mapping(load_spec(spec))
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.exists():
        raise McpgenError.single("exists", "refusing to overwrite an existing file", file=str(out))
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}: edit it, then `mcpgen generate {spec} -m {out} -o DIR`", err=True)


def _generate_target(target: Path | None, out: Path | None) -> tuple[Path, Path | None]:
    """(project directory, spec or None) from `SPEC -o DIR`, `-o DIR` or `DIR`."""
    if out is not None:
        return out, target
    if target is None:
        raise McpgenError.single(
            "usage", "give SPEC -o DIR for a new project, or DIR to regenerate one"
        )
    if target.is_dir():
        return target, None
    if target.exists():
        raise McpgenError.single(
            "usage",
            f"{target} is a file: to generate from it, name the project directory with -o DIR",
            file=str(target),
        )
    raise McpgenError.single(
        "not-found", "no such directory (to generate from a spec: SPEC -o DIR)", file=str(target)
    )


def _print_outcome(project_dir: Path, outcome: Outcome) -> None:
    merge, server = outcome.merge, outcome.server
    dry = " (dry run: nothing written)" if outcome.dry_run else ""
    if outcome.first:
        verb = "would write" if outcome.dry_run else "wrote"
        files = len(merge.changes)
        typer.echo(f"{verb} {project_dir}: {server.tools} tools, {files} files")
    else:
        _print_changes(merge.changes)
        typer.echo(f"{project_dir}: {_summary_line(merge.changes)}{dry}")
    for line in render_text(outcome.agents):
        typer.echo(line)
    if merge.conflicts:
        _print_conflicts(project_dir, merge)
    elif outcome.first and not outcome.dry_run:
        typer.echo(f"run it: cd {project_dir} && pip install . && {server.script} --transport http")


def _print_changes(changes: Sequence[FileChange]) -> None:
    for change in changes:
        detail = f": {change.detail}" if change.detail else ""
        typer.echo(f"  {change.action:<12} {change.path}{detail}")


def _summary_line(changes: Sequence[FileChange]) -> str:
    """E.g. `2 added, 1 merged` or `no file changes (1 kept-edited)`."""
    counts: Counter[str] = Counter(change.action for change in changes)
    kept = [f"{counts[a]} {a}" for a in _KEPT if counts[a]]
    written = [f"{counts[a]} {a}" for a in sorted(counts) if a not in _KEPT]
    if not written:
        return "no file changes" + (f" ({', '.join(kept)})" if kept else "")
    return ", ".join(written + kept)


_KEPT = ("kept-edited", "kept-deleted")  # reported, but nothing is written


def _print_conflicts(project_dir: Path, merge: MergeResult) -> None:
    count = len(merge.conflicts)
    typer.echo(
        f"{count} file{'s' if count > 1 else ''} with conflicts: resolve the markers, then "
        f"re-run `mcpgen generate {project_dir}`:"
    )
    for path in merge.conflicts:
        typer.echo(f"  {path}")


def _print_checked(project_dir: Path, checked: Checked) -> None:
    if checked.ok:
        typer.echo(f"{project_dir}: up to date ({checked.server.tools} tools)")
        return
    if checked.stale:
        typer.echo(
            f"{project_dir} is stale against its spec, mapping or mcpgen; "
            f"run `mcpgen generate {project_dir}`:"
        )
        for reason in checked.stale:
            typer.echo(f"  {reason}")
        for line in render_text(checked.agents):
            typer.echo(line)
    if checked.markers:
        typer.echo(f"{project_dir} still holds conflict markers; resolve them:")
        for place in checked.markers:
            typer.echo(f"  {place}")
    if checked.moved:
        typer.echo(
            f"{project_dir} holds edits that a new mcpgen layout set aside; port each as its "
            "note says, then delete it:"
        )
        for path in checked.moved:
            typer.echo(f"  {project_dir / path}")


def _echo_json(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


@contextmanager
def _json_errors(command: str, enabled: bool) -> Iterator[None]:
    """In --json mode, bad input still gives a JSON document (then exit code 2)."""
    try:
        yield
    except McpgenError as exc:
        if enabled:
            diagnostics = [diagnostic_json(d) for d in exc.diagnostics]
            document = {"command": command, "exit_code": 2, "format": JSON_FORMAT}
            _echo_json({**document, "diagnostics": diagnostics})
        raise


def main() -> None:
    try:
        code = app(standalone_mode=False)  # returns a command's typer.Exit code
    except McpgenError as exc:
        _print(exc.diagnostics)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors, from typer's own copy of click
        typer.echo(f"mcpgen: {exc.format_message()} (see mcpgen --help)", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # the outermost layer: a bug must still not show a traceback
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        typer.echo(
            f"mcpgen: internal error ({type(exc).__name__}: {exc}); please report it with the "
            "spec that caused it",
            err=True,
        )
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
