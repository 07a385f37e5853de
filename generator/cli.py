"""The `mcpgen` command: flags → pipeline → diagnostics → exit code. No logic of its own.

Exit codes: 0 ok; 1 findings (stale, conflicts); 2 bad input, with a located message.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .build import BuildOptions
from .errors import Diagnostic, McpgenError
from .pipeline import generate as run_generate

__all__ = ["app", "main"]

app = typer.Typer(
    name="mcpgen",
    help="Generate a typed, deployable remote MCP server project from an OpenAPI description.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print(diagnostics: list[Diagnostic]) -> None:
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


@app.command()
def generate(
    spec: Annotated[Path, typer.Argument(help="The OpenAPI 3.0/3.1 document (YAML or JSON).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The project directory to write.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Server name (default: from info.title).")
    ] = None,
) -> None:
    """Generate the MCP server project for SPEC into DIR."""
    result = run_generate(spec, out, BuildOptions(name=name))
    _print(result.report.warnings)
    project = result.project
    typer.echo(
        f"wrote {out}: {len(project.tools)} tools, {len(result.tree)} files "
        f"(run it: cd {out} && pip install . && {project.script} --transport http)"
    )


def main() -> None:
    try:
        app(standalone_mode=False)
    except McpgenError as exc:
        _print(exc.diagnostics)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
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
