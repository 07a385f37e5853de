"""Real git repositories, the real `mcpgen` command, real OpenAPI specs (v1 → v2).

The first generation from v1 is made once per session (`generated_v1`); each test copies it,
so a test pays only for the runs it is about.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.regen.conftest import _isolated_git
from tests.regen_e2e.support import PROJECT, SPEC, V1, Run, mcpgen_process

__all__ = ["_isolated_git", "generated_v1", "work"]


@pytest.fixture(scope="session")
def generated_v1(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    """`work/specs/books.yaml` (v1) and `work/books-mcp/` generated from it, no git."""
    work = tmp_path_factory.mktemp("cache") / "work"
    (work / "specs").mkdir(parents=True)
    shutil.copyfile(V1, work / SPEC)
    run = mcpgen_process("generate", SPEC, "-o", PROJECT, cwd=work)
    assert run.code == 0, run.output
    return work, run


@pytest.fixture
def work(generated_v1: tuple[Path, Run], tmp_path: Path) -> Path:
    """A private copy of the generated v1 layout."""
    copy = tmp_path / "work"
    shutil.copytree(generated_v1[0], copy, symlinks=True)
    return copy
