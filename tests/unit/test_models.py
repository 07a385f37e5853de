"""models.py: one importable module whatever the schema names, and a size-based default."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mcpgen import models
from mcpgen.errors import Report


def _document(schemas: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Dotted", "version": "1"},
        "paths": {"/x": {"get": {"responses": {"200": {"description": "ok"}}}}},
        "components": {"schemas": schemas},
    }


def test_dotted_schema_names_stay_in_one_importable_module(tmp_path: Path) -> None:
    """Stripe names schemas `billing_portal.session`; they must not become packages."""
    schemas = {
        "billing_portal.session": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "config": {"$ref": "#/components/schemas/billing_portal.configuration"},
            },
            "required": ["id"],
        },
        "billing_portal.configuration": {
            "type": "object",
            "properties": {"active": {"type": "boolean"}},
        },
    }
    report = Report()
    source = models.generate_models(models.models_source(_document(schemas)), report, "spec")
    assert report.warnings == []
    assert source.count("class ") == 2
    (tmp_path / "dotted_models.py").write_text(source)
    done = subprocess.run(
        [sys.executable, "-c", "import dotted_models"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_models_source_leaves_out_paths_and_keeps_the_spec_order() -> None:
    document = _document({"B": {"type": "string"}, "A": {"type": "integer"}})
    source = json.loads(models.models_source(document))
    assert "paths" not in source
    assert list(source["components"]["schemas"]) == ["B", "A"]


def test_dates_yaml_read_in_the_schemas_are_modelled_as_their_text() -> None:
    """YAML reads an unquoted `example: 2024-01-02` as a date, which JSON has no form for."""
    document = _document({"A": {"type": "string", "format": "date", "example": date(2024, 1, 2)}})
    report = Report()
    source = models.generate_models(models.models_source(document), report, "spec")
    assert "2024-01-02" in source and not report.warnings


def test_large_schemas_get_no_models_by_default_and_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = models.models_source(_document({"A": {"type": "string"}}))
    monkeypatch.setattr(models, "AUTO_LIMIT", len(source) - 1)
    report = Report()
    assert models.wanted(None, source, report, "openapi.json") is False
    (warning,) = report.warnings
    assert (warning.code, warning.pointer) == ("models-large", "/components/schemas")
    assert "`models: true`" in warning.message
    quiet = Report()
    assert models.wanted(True, source, quiet, "openapi.json") is True
    assert models.wanted(False, source, quiet, "openapi.json") is False
    assert quiet.warnings == []
    monkeypatch.setattr(models, "AUTO_LIMIT", len(source))
    assert models.wanted(None, source, quiet, "openapi.json") is True
