"""Stage 2: validate with openapi-pydantic; errors point at the file, JSON pointer and line.

`validate` checks a document before returning it. `start_validation` checks it in a second
process while the caller goes on translating it (GitHub: 0.5 s of pydantic beside the
translation); its `finish` raises the same located errors, and runs the check itself where
there is no second process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from .boolean_schemas import boolean_schemas, diagnostics_30, without_booleans
from .child import ChildJob
from .errors import Diagnostic, Level, McpgenError, escape_pointer
from .load import Source

__all__ = ["Spec", "Validation", "start_validation", "validate"]

Version = Literal["3.0", "3.1"]
_MAX_SHOWN = 20


@dataclass(frozen=True)
class Spec:
    """An OpenAPI document: the raw data (for pointers) and its version."""

    source: Source
    version: Version

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.source.data
        return data


def validate(source: Source) -> Spec:
    """Check the document; boolean schemas are valid in 3.1 (see `boolean_schemas`)."""
    spec = Spec(source=source, version=_version(source))
    found = _problems(spec)
    if found:
        raise McpgenError(found)
    return spec


def start_validation(source: Source) -> tuple[Spec, Validation]:
    """The document (its version checked now) and its validation, under way."""
    spec = Spec(source=source, version=_version(source))
    return spec, Validation(spec)


class Validation:
    """`validate`, in a second process (`child.ChildJob`)."""

    def __init__(self, spec: Spec) -> None:
        self._job = ChildJob(partial(_problems, spec))

    def finish(self) -> None:
        """Raise the document's located errors, if it has any."""
        found = self._job.result()
        if found:
            raise McpgenError(found)


def _problems(spec: Spec) -> list[Diagnostic]:
    import openapi_pydantic  # deferred: slow to import, and only needed here
    from pydantic import ValidationError

    source = spec.source
    data = _without_path_extensions(source.data)
    booleans = boolean_schemas(data, spec.version)
    found = diagnostics_30(source, booleans) if spec.version == "3.0" else []
    try:
        openapi_pydantic.parse_obj(without_booleans(data, booleans))
    except ValidationError as exc:
        found += _diagnostics(source, exc.errors(include_url=False))
    found.sort(key=lambda d: (d.line or 0, d.pointer or ""))
    return _capped(source, found) if found else []


def _without_path_extensions(data: dict[str, Any]) -> dict[str, Any]:
    """The Paths Object allows `x-` extensions, which openapi-pydantic reads as path items."""
    paths = data.get("paths")
    if not isinstance(paths, dict) or not any(str(k).startswith("x-") for k in paths):
        return data
    return {**data, "paths": {k: v for k, v in paths.items() if not str(k).startswith("x-")}}


def _version(source: Source) -> Version:
    data = source.data
    if "swagger" in data:
        raise source.error(
            "swagger-2",
            "Swagger 2.0 is not read directly; convert it to OpenAPI 3 first, for example with "
            "`npx swagger2openapi swagger.yaml -o openapi.yaml`, then run mcpgen on the result",
            "/swagger",
        )
    raw = data.get("openapi")
    if not isinstance(raw, str):
        raise source.error(
            "not-openapi", "missing the `openapi` version field (3.0.x or 3.1.x)", ""
        )
    if raw.startswith("3.0"):
        return "3.0"
    if raw.startswith("3.1"):
        return "3.1"
    raise source.error(
        "openapi-version", f"OpenAPI {raw} is not supported (3.0.x and 3.1.x are)", "/openapi"
    )


def _diagnostics(source: Source, errors: Sequence[Any]) -> list[Diagnostic]:
    """Turn pydantic error locations into JSON pointers into the real document.

    openapi-pydantic reports union branches (`Reference`, `Parameter`, ...) and a version tag in
    its locations; tokens that are not keys of the document are skipped. Of the union branches
    at one pointer, the `$ref` complaint is kept only when the node really is a reference.
    """
    found: dict[str, Diagnostic] = {}
    for error in errors:
        pointer, node = _pointer(source.data, error.get("loc", ()))
        if _is_reference_branch(error) and not (isinstance(node, dict) and "$ref" in node):
            continue
        message = _message(error)
        key = f"{pointer}\0{message}"
        if key not in found:
            found[key] = Diagnostic(
                Level.ERROR, "invalid", message, source.display, pointer, source.line_of(pointer)
            )
    if not found:
        return [
            Diagnostic(Level.ERROR, "invalid", "not a valid OpenAPI document", source.display, "")
        ]
    return list(found.values())


def _capped(source: Source, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    if len(diagnostics) > _MAX_SHOWN:
        rest = len(diagnostics) - _MAX_SHOWN
        diagnostics = diagnostics[:_MAX_SHOWN]
        diagnostics.append(
            Diagnostic(Level.ERROR, "invalid", f"... and {rest} more", source.display)
        )
    return diagnostics


def _pointer(data: Any, loc: Sequence[Any]) -> tuple[str, Any]:
    pointer = ""
    node = data
    for token in loc:
        if isinstance(node, dict) and isinstance(token, str) and token in node:
            node = node[token]
            pointer += "/" + escape_pointer(token)
        elif isinstance(node, list) and isinstance(token, int) and 0 <= token < len(node):
            node = node[token]
            pointer += f"/{token}"
    return pointer, node


def _is_reference_branch(error: Any) -> bool:
    return "Reference" in [str(t) for t in error.get("loc", ())]


def _message(error: Any) -> str:
    loc = [str(t) for t in error.get("loc", ())]
    field = loc[-1] if loc else ""
    text = str(error.get("msg", "invalid"))
    if error.get("type") == "missing":
        return f"missing required field `{field}`"
    if error.get("type") == "extra_forbidden":
        return f"unknown field `{field}`"
    if field and not field[:1].isupper() and not field.isdigit():
        return f"`{field}`: {text}"
    return text
