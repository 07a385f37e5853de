"""Generated projects in tests: made by the real CLI, installed by the real pip."""

from __future__ import annotations

import sys
from pathlib import Path

from . import procs

__all__ = ["generate", "pip_install"]


def generate(spec: Path, out: Path, *options: str) -> Path:
    """`mcpgen generate SPEC -o OUT [options]` in a subprocess; fails the test on a bad exit."""
    argv = [sys.executable, "-m", "mcpgen", "generate", str(spec), "-o", str(out), *options]
    procs.run_bounded(argv, timeout=180)
    return out


def pip_install(project: Path, site: Path) -> Path:
    """pip-install the project (no dependencies: the test environment has them) into `site`;
    its console script lands in `site/bin`."""
    procs.run_bounded(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(project),
        ],
        timeout=300,
    )
    return site
