"""Bad input gets a located message and exit code 2 from the real CLI, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "cases"

# case file → (text the message must contain, location it must name)
EXPECTED = {
    "syntax.yaml": ("invalid YAML", "syntax.yaml (line 8)"),
    "not-a-mapping.json": ("must be a mapping", "not-a-mapping.json#"),
    "swagger2.yaml": ("swagger2openapi", "swagger2.yaml#/swagger (line 1)"),
    "version4.yaml": ("OpenAPI 4.0.0 is not supported", "version4.yaml#/openapi (line 1)"),
    "bad-parameter.yaml": (
        "Input should be 'query', 'header', 'path' or 'cookie'",
        "bad-parameter.yaml#/paths/~1pets/get/parameters/0/in (line 10)",
    ),
    "boolean-schema-3.0.yaml": (
        "`true` as a schema needs OpenAPI 3.1",
        "boolean-schema-3.0.yaml#/paths/~1pets/get/responses/200/content/application~1json"
        "/schema/items (line 13)",
    ),
    "components-not-a-mapping.yaml": (
        "`components`: Input should be a valid dictionary",
        "components-not-a-mapping.yaml#/components (line 9)",
    ),
    "dangling-ref.yaml": ("#/components/schemas/Nope", "dangling-ref.yaml#/paths/~1pets/get"),
    "missing-ref-file.yaml": ("missing file", "missing-ref-file.yaml#/paths/~1pets/get"),
    "remote-ref.yaml": ("remote $ref", "remote-ref.yaml#/paths/~1pets/get"),
}


def mcpgen(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_spec_is_located(case: str, tmp_path: Path) -> None:
    done = mcpgen("generate", str(CASES / case), "-o", str(tmp_path / "out"), cwd=CASES)
    message, location = EXPECTED[case]
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert message in done.stderr
    assert location in done.stderr
    assert not (tmp_path / "out").exists(), "nothing may be written for bad input"


def test_every_case_is_checked() -> None:
    assert sorted(p.name for p in CASES.iterdir()) == sorted(EXPECTED)


def test_missing_spec_file(tmp_path: Path) -> None:
    done = mcpgen("generate", "nope.yaml", "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2
    assert "nope.yaml: error[not-found]: no such file" in done.stderr


def test_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    spec = Path(__file__).parents[2] / "specs" / "bookshop" / "openapi.yaml"
    done = mcpgen("generate", str(spec), "-o", str(out), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert (out / "mine.txt").read_text() == "keep me"
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]


def test_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    done = mcpgen("generate", "--frobnicate", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
