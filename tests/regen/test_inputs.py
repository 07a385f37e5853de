"""`.mcpgen/inputs.json` (mcpgen.records, mcpgen.regen.inputs): paths relative to the
project, stable bytes, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcpgen.errors import McpgenError
from mcpgen.records import INPUTS_PATH, dump_inputs, load_inputs
from mcpgen.regen.inputs import is_newer, record_inputs, resolve


def test_recorded_paths_are_relative_to_the_project(tmp_path: Path) -> None:
    project = tmp_path / "services" / "books"
    spec = tmp_path / "specs" / "books.yaml"
    spec.parent.mkdir()
    spec.write_text("openapi: 3.1.0\n")
    mapping = project / "mcpgen.yaml"
    inputs = resolve(project, spec, mapping, None)
    data = dump_inputs(record_inputs(project, inputs, "books", "0.1.0"))
    assert json.loads(data) == {
        "format": 1,
        "mapping": "mcpgen.yaml",
        "mcpgen_version": "0.1.0",
        "name": "books",
        "spec": "../../specs/books.yaml",
    }
    assert data == (json.dumps(json.loads(data), indent=1, sort_keys=True) + "\n").encode()
    (project / ".mcpgen").mkdir(parents=True)
    (project / INPUTS_PATH).write_bytes(
        dump_inputs(record_inputs(project, resolve(project, spec, None, None), "books", "0.1.0"))
    )
    recorded = resolve(project, None, None, None)
    assert recorded.spec == project / "../../specs/books.yaml"
    assert recorded.spec.resolve() == spec.resolve()
    assert recorded.mapping is None
    assert recorded.name is None, "the recorded name is the pipeline's fallback, not an override"
    assert recorded.recorded is not None
    assert recorded.recorded.name == "books"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{", "bad-inputs"),
        (b"[]", "bad-inputs"),
        (b'{"format": 1, "spec": "a.yaml", "name": "x"}', "bad-inputs"),
        (
            b'{"format": 1, "spec": "a.yaml", "name": "x", "mcpgen_version": "1", "mapping": 3}',
            "bad-inputs",
        ),
        (b'{"format": 9, "spec": "a.yaml", "name": "x", "mcpgen_version": "1"}', "inputs-too-new"),
    ],
)
def test_unreadable_inputs_are_reported(tmp_path: Path, content: bytes, code: str) -> None:
    (tmp_path / ".mcpgen").mkdir()
    (tmp_path / INPUTS_PATH).write_bytes(content)
    with pytest.raises(McpgenError) as caught:
        load_inputs(tmp_path)
    assert caught.value.diagnostics[0].code == code
    assert caught.value.diagnostics[0].file == str(tmp_path / INPUTS_PATH)


def test_a_missing_record_or_recorded_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(McpgenError, match="records no inputs") as caught:
        resolve(tmp_path, None, None, None)
    assert caught.value.diagnostics[0].code == "no-inputs"
    (tmp_path / ".mcpgen").mkdir()
    record = {
        "format": 1,
        "mapping": "m.yaml",
        "mcpgen_version": "0.1.0",
        "name": "x",
        "spec": "s.yaml",
    }
    (tmp_path / INPUTS_PATH).write_text(json.dumps(record))
    (tmp_path / "s.yaml").write_text("")
    with pytest.raises(McpgenError) as caught:
        resolve(tmp_path, None, None, None)
    assert caught.value.diagnostics[0].code == "mapping-missing"
    assert resolve(tmp_path, None, tmp_path / "other.yaml", None).mapping == tmp_path / "other.yaml"


def test_version_order() -> None:
    assert is_newer("0.10.0", "0.9.1")
    assert not is_newer("0.1.0", "0.1.0")
    assert not is_newer("0.1.0", "0.2.0")
    assert is_newer("1.0.0+local", "0.9")
