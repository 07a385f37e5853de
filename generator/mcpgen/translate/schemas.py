"""OpenAPI 3.0 / 3.1 Schema Objects → compact JSON Schema 2020-12 for tool input and output.

`SchemaConverter` holds what is shared by the whole document (reference resolution,
recursion analysis, converted schemas per direction); each tool schema is built in its own
`SchemaSession`, whose fragments refer to the session's `$defs`:

- a referenced schema is copied inline when the tool uses it once, and becomes a `$defs`
  entry referenced as `{"$ref": "#/$defs/Name"}` when it is used twice or more, is
  recursive, or is met deeper than `INLINE_DEPTH` levels;
- `allOf` is merged into one schema unless its members conflict or are recursive;
- OpenAPI-only keywords become their JSON Schema forms (`nullable`, `example`, boolean
  exclusive bounds, `format: binary`) or are dropped (`discriminator`, `xml`, `x-*`, ...);
- inputs leave out `readOnly` properties, outputs `writeOnly` ones; outputs check `oneOf`
  as `anyOf`, so that a reply matching two overlapping branches still validates;
- compactness: each converted schema has a size budget (`BUDGET`, see `schemas_budget`):
  references beyond it become stubs keeping only their `type`; examples are capped at
  `EXAMPLES_BYTES` of JSON; `false` for readOnly/writeOnly/deprecated/uniqueItems is
  left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from jsonschema import Draft202012Validator

from ..errors import Report
from .schemas_budget import BUDGET, Outlines
from .schemas_convert import TemplateBuilder, Warnings
from .schemas_pytype import accepts_nothing, python_type
from .schemas_refs import RefIndex
from .schemas_session import INLINE_DEPTH, SchemaSession
from .schemas_tree import Direction

__all__ = [
    "BUDGET",
    "INLINE_DEPTH",
    "Direction",
    "SchemaConverter",
    "SchemaSession",
    "accepts_nothing",
    "check_schema",
    "python_type",
]


class SchemaConverter:
    """Converts the schemas of one OpenAPI document; memoizes per referenced schema."""

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        version: Literal["3.0", "3.1"],
        file: str,
        report: Report,
        budget: int = BUDGET,
    ) -> None:
        """`budget`: estimated JSON bytes per converted schema before deep references are
        cut to stubs (see `schemas_budget`)."""
        self.version = version
        self._refs = RefIndex(document, file)
        warnings = Warnings(report, file)
        builders = {
            direction: TemplateBuilder(self._refs, direction=direction, warnings=warnings)
            for direction in ("input", "output")
        }
        self._sides = {d: (builder, Outlines(builder, budget)) for d, builder in builders.items()}

    def session(self, direction: Direction) -> SchemaSession:
        """A fresh session for one tool schema: its own `$defs`."""
        builder, outlines = self._sides[direction]
        return SchemaSession(self._refs, builder, outlines)


def check_schema(schema: Mapping[str, Any]) -> None:
    """Raise `jsonschema.SchemaError` unless `schema` is valid JSON Schema 2020-12."""
    Draft202012Validator.check_schema(schema)
