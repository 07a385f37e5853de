"""Boolean schemas (`true`, `false`) wherever a schema may stand in an OpenAPI document.

OpenAPI 3.1 schemas are JSON Schema 2020-12, where `true` accepts anything and `false`
nothing, in any position that takes a schema. openapi-pydantic only accepts Schema objects
there (booleans only for `additionalProperties`), so validation sees `{}` for `true` and
`{"not": {}}` for `false` (the same meaning), while the document itself keeps its booleans
for the schema converter. OpenAPI 3.0 has no boolean schemas apart from
`additionalProperties`: in the positions openapi-pydantic checks they are reported, each at
its own pointer, with the 3.0 spelling to use instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from .errors import Diagnostic, Level, join_pointer
from .load import Source

__all__ = ["Path", "accepts_nothing", "boolean_schemas", "diagnostics_30", "without_booleans"]

Path = tuple[Any, ...]  # keys as written (YAML may give integer response codes)
_Kind = Literal["path_item", "operation", "parameter", "header", "body", "response", "media"]
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Keywords whose value is one schema, a list of schemas, or a map of name → schema.
_ONE_31 = (
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "contentSchema",
)
_LIST_31 = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP_31 = ("properties", "patternProperties", "dependentSchemas", "$defs")
# The schema keywords of OpenAPI 3.0 (the only ones openapi-pydantic checks there).
_ONE_30 = ("items", "additionalProperties", "not")
_LIST_30 = ("allOf", "anyOf", "oneOf")
_MAP_30 = ("properties",)


def boolean_schemas(data: Any, version: Literal["3.0", "3.1"]) -> list[Path]:
    """The paths of the booleans that stand where a schema may, in document order."""
    return list(_Walker(version).run(data))


def without_booleans(data: dict[str, Any], paths: list[Path]) -> dict[str, Any]:
    """A copy of `data` with `{}` for each `true` and `{"not": {}}` for each `false` at
    `paths`; only the containers along those paths are copied, `data` is not changed."""
    if not paths:
        return data
    root: dict[str, Any] = dict(data)
    copies: dict[Path, Any] = {(): root}
    for path in paths:
        parent: Any = root
        for depth, token in enumerate(path[:-1], start=1):
            copied = copies.get(path[:depth])
            if copied is None:
                child = parent[token]
                copied = dict(child) if isinstance(child, dict) else list(child)
                parent[token] = copied
                copies[path[:depth]] = copied
            parent = copied
        parent[path[-1]] = {} if parent[path[-1]] is True else {"not": {}}
    return root


def diagnostics_30(source: Source, paths: list[Path]) -> list[Diagnostic]:
    """One located error per boolean schema of an OpenAPI 3.0 document."""
    found: list[Diagnostic] = []
    for path in paths:
        pointer = join_pointer("", *path)
        value = _at(source.data, path)
        spelled = "{}" if value is True else "{not: {}}"
        message = (
            f"`{str(value).lower()}` as a schema needs OpenAPI 3.1 (this document is 3.0, "
            f"where only `additionalProperties` may be true or false): write `{spelled}` instead"
        )
        found.append(
            Diagnostic(
                Level.ERROR,
                "boolean-schema",
                message,
                source.display,
                pointer,
                source.line_of(pointer),
            )
        )
    return found


def _at(data: Any, path: Path) -> Any:
    node = data
    for token in path:
        node = node[token]
    return node


class _Walker:
    """Visits the document's structure down to every schema position (without following
    `$ref`s: a referenced component is visited where it is defined)."""

    def __init__(self, version: Literal["3.0", "3.1"]) -> None:
        self._31 = version == "3.1"
        self._one = _ONE_31 if self._31 else _ONE_30
        self._list = _LIST_31 if self._31 else _LIST_30
        self._map = _MAP_31 if self._31 else _MAP_30

    def run(self, data: Any) -> Iterator[Path]:
        if not isinstance(data, dict):
            return
        for key, item in _entries(data.get("paths")):
            if str(key).startswith("/"):
                yield from self._structure(item, ("paths", key), "path_item")
        if self._31:
            for key, item in _entries(data.get("webhooks")):
                yield from self._structure(item, ("webhooks", key), "path_item")
        components = data.get("components")
        if not isinstance(components, dict):
            return
        base: Path = ("components",)
        for key, schema in _entries(components.get("schemas")):
            yield from self._schema(schema, (*base, "schemas", key))
        kinds: tuple[tuple[str, _Kind], ...] = (
            ("responses", "response"),
            ("parameters", "parameter"),
            ("requestBodies", "body"),
            ("headers", "header"),
            ("pathItems", "path_item"),
        )
        for group, kind in kinds:
            for key, node in _entries(components.get(group)):
                yield from self._structure(node, (*base, group, key), kind)
        for key, callback in _entries(components.get("callbacks")):
            yield from self._callback(callback, (*base, "callbacks", key))

    def _callback(self, node: Any, path: Path) -> Iterator[Path]:
        if isinstance(node, dict) and "$ref" not in node:
            for key, item in _entries(node):
                yield from self._structure(item, (*path, key), "path_item")

    def _structure(self, node: Any, path: Path, kind: _Kind) -> Iterator[Path]:
        """The non-schema objects that lead to schemas: path items, operations, ..."""
        if not isinstance(node, dict) or "$ref" in node:
            return
        if kind in ("path_item", "operation"):
            for index, parameter in enumerate(_items(node.get("parameters"))):
                yield from self._structure(parameter, (*path, "parameters", index), "parameter")
        if kind == "path_item":
            for method in _METHODS:
                yield from self._structure(node.get(method), (*path, method), "operation")
        elif kind == "operation":
            yield from self._structure(node.get("requestBody"), (*path, "requestBody"), "body")
            for code, response in _entries(node.get("responses")):
                yield from self._structure(response, (*path, "responses", code), "response")
            for key, callback in _entries(node.get("callbacks")):
                yield from self._callback(callback, (*path, "callbacks", key))
        elif kind == "media":
            if "schema" in node:
                yield from self._schema(node["schema"], (*path, "schema"))
            for key, encoding in _entries(node.get("encoding")):
                for name, header in _entries(_get(encoding, "headers")):
                    yield from self._structure(
                        header, (*path, "encoding", key, "headers", name), "header"
                    )
        else:
            if kind in ("parameter", "header") and "schema" in node:
                yield from self._schema(node["schema"], (*path, "schema"))
            if kind == "response":
                for name, header in _entries(node.get("headers")):
                    yield from self._structure(header, (*path, "headers", name), "header")
            for media, content in _entries(node.get("content")):
                yield from self._structure(content, (*path, "content", media), "media")

    def _schema(self, node: Any, path: Path) -> Iterator[Path]:
        """Booleans in and under the schema at `path` (iteratively: schemas nest deeply).

        In 3.0 a boolean `additionalProperties` is valid, and is not reported."""
        stack: list[tuple[Any, Path]] = [(node, path)]
        while stack:
            current, where = stack.pop()
            if isinstance(current, bool):
                if self._31 or where == path or where[-1] != "additionalProperties":
                    yield where
                continue
            if not isinstance(current, dict) or ("$ref" in current and not self._31):
                continue  # 3.0: the siblings of `$ref` are ignored
            children: list[tuple[Any, Path]] = []
            for key, value in current.items():
                if key in self._one:
                    children.append((value, (*where, key)))
                elif key in self._list and isinstance(value, list):
                    children.extend((v, (*where, key, i)) for i, v in enumerate(value))
                elif key in self._map and isinstance(value, dict):
                    children.extend((v, (*where, key, k)) for k, v in value.items())
            stack.extend(reversed(children))


def _entries(node: Any) -> Iterator[tuple[Any, Any]]:
    """The entries of a map (skipping `x-` extensions); nothing when it is not a map."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not str(key).startswith("x-"):
                yield key, value


def _items(node: Any) -> list[Any]:
    return node if isinstance(node, list) else []


def _get(node: Any, key: str) -> Any:
    return node.get(key) if isinstance(node, dict) else None


def accepts_nothing(schema: Any) -> bool:
    """`false`, a schema whose `not` accepts anything (`{"not": {}}`), or one with an `allOf`
    member that accepts nothing."""
    if schema is False:
        return True
    if not isinstance(schema, Mapping):
        return False
    if schema.get("not") is True or schema.get("not") == {}:
        return True
    members = schema.get("allOf")
    return isinstance(members, list) and any(accepts_nothing(m) for m in members)
