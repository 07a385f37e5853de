"""OpenAPI Schema Object → template (JSON Schema 2020-12 with `Ref`s left in), per direction."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import Report, join_pointer
from .schemas_keywords import (
    DROP,
    SIMPLE_KEYWORDS,
    Warn,
    pattern_ok,
    simple_keyword,
    trim_examples,
)
from .schemas_refs import RefIndex
from .schemas_tree import (
    ANNOTATIONS,
    COMPOSITION,
    IN_PLACE,
    SCHEMA_LIST,
    SCHEMA_ONE,
    SILENT_KEYWORDS,
    Direction,
    Ref,
    Template,
    annotation_only,
    merge,
    ordered,
)

__all__ = ["MAX_DEPTH", "TemplateBuilder", "Warnings"]

MAX_DEPTH = 100  # nesting levels inside one schema; deeper input is rejected
_NULL = {"type": "null"}
_TEXT_MEDIA = ("text/", "json", "xml", "x-www-form-urlencoded")


class Warnings:
    """Forwards warnings to the report once each; unknown keywords once per keyword."""

    def __init__(self, report: Report, file: str) -> None:
        self._report = report
        self._file = file
        self._seen: set[tuple[str, str, str]] = set()
        self._unknown: set[str] = set()

    def __call__(self, code: str, message: str, pointer: str) -> None:
        if (code, message, pointer) not in self._seen:
            self._seen.add((code, message, pointer))
            self._report.warn(code, message, file=self._file, pointer=pointer)

    def unknown(self, key: str, pointer: str) -> None:
        if key not in self._unknown:
            self._unknown.add(key)
            self("schema-keyword", f"dropped unsupported keyword '{key}' (everywhere)", pointer)


def _types(schema: Mapping[str, Any]) -> list[str]:
    value = schema.get("type")
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, list) else []


class TemplateBuilder:
    """Converts raw schemas to templates; templates of referenced schemas are memoized."""

    def __init__(
        self,
        refs: RefIndex,
        *,
        direction: Direction,
        warnings: Warnings,
    ) -> None:
        self._refs = refs
        self._direction = direction
        self._warn: Warn = warnings
        self._warnings = warnings
        self._hide = "readOnly" if direction == "input" else "writeOnly"
        self._memo: dict[str, Template] = {}

    def template(self, target: str) -> Template:
        """The template of the referenced schema at `target` (a canonical pointer)."""
        if target not in self._memo:
            self._build_targets(target)
        return self._memo[target]

    def build(self, node: Any, pointer: str) -> Template:
        return self._build(node, pointer, 0)

    def _build_targets(self, target: str) -> None:
        """Build `target` after the non-recursive schemas it references (iteratively).

        Merging an `allOf` reads the templates of its non-recursive members, so those
        must exist first; recursive members stay references and are not needed.
        """
        order: list[str] = []
        visiting = {target}
        stack: list[tuple[str, Iterator[str]]] = [(target, iter(self._refs.edges(target)))]
        while stack:
            current, successors = stack[-1]
            for succ in successors:
                if succ in self._memo or succ in visiting or self._refs.is_recursive(succ):
                    continue
                visiting.add(succ)
                stack.append((succ, iter(self._refs.edges(succ))))
                break
            else:
                stack.pop()
                order.append(current)
        for pointer in order:
            self._memo[pointer] = self.build(self._refs.lookup(pointer, pointer, pointer), pointer)

    def _build(self, node: Any, pointer: str, depth: int) -> Template:
        if isinstance(node, bool):
            return node
        if not isinstance(node, Mapping):
            found = type(node).__name__
            raise self._refs.error(
                "schema-invalid", f"expected a schema object, found {found}", pointer
            )
        if depth > MAX_DEPTH:
            message = f"schema nested more than {MAX_DEPTH} levels deep"
            raise self._refs.error("schema-depth", message, pointer)
        members: list[Template] = []
        ref = node.get("$ref")
        if isinstance(ref, str):
            members.append(Ref(self._refs.schema_target(ref, pointer)))
        kw: dict[str, Any] = {}
        hidden: list[str] = []
        for key, value in node.items():
            at = join_pointer(pointer, key)
            if key == "properties":
                hidden = self._properties(value, at, depth, kw)
            elif key == "allOf":
                members.extend(self._schema_list(key, value, at, depth) or [])
            else:
                self._keyword(node, key, at, depth, kw)
        kw = self._finish(node, kw, hidden)
        result = self._combine(node, pointer, kw, members) if members else kw
        if isinstance(result, dict):
            result = _settle_unevaluated(result)
        if node.get("nullable") is True:
            result = _nullable(result)
        return ordered(result) if isinstance(result, dict) else result

    def _keyword(
        self, node: Mapping[str, Any], key: str, at: str, depth: int, kw: dict[str, Any]
    ) -> None:
        value = node[key]
        if key in SILENT_KEYWORDS or key == "$ref" or key.startswith("x-"):
            return
        if key in SIMPLE_KEYWORDS:
            if not (key.startswith("exclusiveM") and isinstance(value, bool)):  # 3.0: _finish
                converted = simple_keyword(key, value, at, self._warn)
                if converted is not DROP:
                    kw[key] = converted
        elif key == "items" and isinstance(value, list):  # tuple form of older drafts
            kw["prefixItems"] = self._schema_list("items", value, at, depth)
        elif key in SCHEMA_ONE:
            kw[key] = self._build(value, at, depth + 1)
        elif key in SCHEMA_LIST:
            schemas = self._schema_list(key, value, at, depth)
            if schemas is not None:
                kw[self._list_key(key, node)] = schemas
        elif key == "patternProperties":
            self._pattern_properties(value, at, depth, kw)
        elif key == "dependentSchemas":
            self._dependent_schemas(value, at, depth, kw)
        else:
            self._warnings.unknown(key, at)

    def _list_key(self, key: str, node: Mapping[str, Any]) -> str:
        """Outputs validate `oneOf` as `anyOf`: replies matching two branches must pass."""
        if key == "oneOf" and self._direction == "output" and "anyOf" not in node:
            return "anyOf"
        return key

    def _schema_list(self, key: str, value: Any, at: str, depth: int) -> list[Template] | None:
        if not isinstance(value, list) or not value:
            self._warn("schema-keyword", f"dropped '{key}': expected a non-empty list", at)
            return None
        return [self._build(v, join_pointer(at, i), depth + 1) for i, v in enumerate(value)]

    def _properties(self, value: Any, at: str, depth: int, kw: dict[str, Any]) -> list[str]:
        """Converts `properties`, leaving out those hidden in this direction; returns them."""
        if not isinstance(value, Mapping):
            self._warn("schema-keyword", "dropped 'properties': expected an object", at)
            return []
        properties: dict[str, Template] = {}
        hidden: list[str] = []
        for name, schema in value.items():
            where = join_pointer(at, name)
            if self._is_hidden(schema, where):
                hidden.append(name)
            else:
                properties[name] = self._build(schema, where, depth + 1)
        if properties:
            kw["properties"] = properties
        return hidden

    def _pattern_properties(self, value: Any, at: str, depth: int, kw: dict[str, Any]) -> None:
        if not isinstance(value, Mapping):
            self._warn("schema-keyword", "dropped 'patternProperties': expected an object", at)
            return
        kept: dict[str, Template] = {}
        for pattern, schema in value.items():
            where = join_pointer(at, pattern)
            if pattern_ok(pattern):
                kept[pattern] = self._build(schema, where, depth + 1)
            else:
                self._warn("schema-pattern", f"dropped pattern property '{pattern}'", where)
        if kept:
            kw["patternProperties"] = kept

    def _dependent_schemas(self, value: Any, at: str, depth: int, kw: dict[str, Any]) -> None:
        if not isinstance(value, Mapping):
            self._warn("schema-keyword", "dropped 'dependentSchemas': expected an object", at)
            return
        built = {
            str(name): self._build(schema, join_pointer(at, name), depth + 1)
            for name, schema in value.items()
        }
        if built:
            kw["dependentSchemas"] = built

    def _is_hidden(self, schema: Any, pointer: str) -> bool:
        """readOnly (input) or writeOnly (output) on the schema or along its `$ref` chain."""
        seen: set[str] = set()
        while isinstance(schema, Mapping):
            if schema.get(self._hide) is True:
                return True
            ref = schema.get("$ref")
            if not isinstance(ref, str):
                return False
            pointer = self._refs.schema_target(ref, pointer)
            if pointer in seen:
                return False
            seen.add(pointer)
            schema = self._refs.lookup(pointer, ref, pointer)
        return False

    def _hidden_names(self, node: Mapping[str, Any], pointer: str) -> set[str]:
        """Names hidden in this direction among the properties of `node` and its allOf."""
        names: set[str] = set()
        seen: set[str] = set()
        stack: list[tuple[Any, str]] = [(node, pointer)]
        while stack:
            current, where = stack.pop()
            if not isinstance(current, Mapping):
                continue
            ref = current.get("$ref")
            if isinstance(ref, str):
                target = self._refs.schema_target(ref, where)
                if target not in seen:
                    seen.add(target)
                    stack.append((self._refs.lookup(target, ref, where), target))
            properties = current.get("properties")
            if isinstance(properties, Mapping):
                for name, schema in properties.items():
                    if self._is_hidden(schema, join_pointer(where, "properties", name)):
                        names.add(name)
            members = current.get("allOf")
            if isinstance(members, list):
                stack.extend((m, join_pointer(where, "allOf", i)) for i, m in enumerate(members))
        return names

    def _finish(
        self, node: Mapping[str, Any], kw: dict[str, Any], hidden: list[str]
    ) -> dict[str, Any]:
        """Keywords that depend on others: 3.0 exclusive bounds, example, binary, items."""
        for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if node.get(key) is True and bound in kw:
                kw[key] = kw.pop(bound)
        if "example" in node and "examples" not in kw:
            examples = trim_examples([node["example"]])
            if examples is not DROP:
                kw["examples"] = examples
        if hidden and "required" in kw:
            kw["required"] = [name for name in kw["required"] if name not in hidden]
            if not kw["required"]:
                del kw["required"]
        if self._is_binary(node, kw):
            kw = self._binary(kw)
        if "array" in _types(kw) and "items" not in kw and "unevaluatedItems" not in kw:
            kw["items"] = {}
        return kw

    def _is_binary(self, node: Mapping[str, Any], kw: dict[str, Any]) -> bool:
        if [t for t in _types(kw) if t != "null"] not in ([], ["string"]):
            return False
        if kw.get("format") == "binary" or node.get("type") == "file":
            return True
        media = kw.get("contentMediaType")
        if not isinstance(media, str) or "contentEncoding" in kw:
            return False
        return not any(part in media for part in _TEXT_MEDIA)

    def _binary(self, kw: dict[str, Any]) -> dict[str, Any]:
        """File content: base64 text in inputs, an opaque string in outputs."""
        out: dict[str, Any] = {"type": kw.get("type", "string")}
        out.update((k, kw[k]) for k in ("title", "deprecated") if k in kw)
        description = kw.get("description")
        if self._direction == "output":
            if description:
                out["description"] = description
            return out
        suffix = "(file content, base64-encoded)"
        out["description"] = f"{description} {suffix}" if description else suffix.strip("()")
        out["contentEncoding"] = "base64"
        if "contentMediaType" in kw:
            out["contentMediaType"] = kw["contentMediaType"]
        return out

    def _combine(
        self, node: Mapping[str, Any], pointer: str, kw: dict[str, Any], members: list[Template]
    ) -> Template:
        """`$ref` and `allOf` members with the node's own keywords: merged when possible."""
        members = [m for m in members if m is not True and m != {}]
        if not members:
            return kw
        refs = [m for m in members if isinstance(m, Ref)]
        others = [m for m in members if not isinstance(m, Ref)]
        if len(refs) == 1 and annotation_only(kw) and all(annotation_only(m) for m in others):
            siblings = dict(kw)
            for member in others:
                if isinstance(member, dict):
                    siblings.update((k, v) for k, v in member.items() if k not in siblings)
            return Ref(refs[0].target, ordered({**refs[0].siblings, **siblings}))
        contents = [self._content(m) for m in members]
        resolved = [c for c in contents if c is not None]
        if len(resolved) == len(contents):
            merged = merge([kw, *resolved])
            if merged is not None:
                return self._drop_hidden(merged, node, pointer)
        return {**kw, "allOf": members}

    def _content(self, member: Template) -> dict[str, Any] | None:
        """A member's schema as a dict for merging; None for recursive references."""
        if isinstance(member, bool):
            return {} if member else None
        if isinstance(member, dict):
            return member
        if self._refs.is_recursive(member.target):
            return None
        inner = self._content(self.template(member.target))
        if inner is None or not member.siblings:
            return inner
        return merge([member.siblings, inner])

    def _drop_hidden(
        self, merged: dict[str, Any], node: Mapping[str, Any], pointer: str
    ) -> dict[str, Any]:
        """Required names that a merged member hid in this direction are no longer required."""
        if "required" not in merged:
            return merged
        hidden = self._hidden_names(node, pointer)
        present = merged.get("properties", {})
        required = [n for n in merged["required"] if n not in hidden or n in present]
        if required == merged["required"]:
            return merged
        out = dict(merged)
        if required:
            out["required"] = required
        else:
            del out["required"]
        return out


def _settle_unevaluated(schema: dict[str, Any]) -> dict[str, Any]:
    """`unevaluatedProperties` / `unevaluatedItems` with nothing applied in place beside them
    (no `allOf`, `anyOf`, `if`, ... left after merging) mean `additionalProperties` / `items`
    (the forms every client knows); next to those they have nothing left to apply to.
    `unevaluatedItems` stays beside `contains`, which evaluates only the items it matches."""
    if IN_PLACE & schema.keys() or not {"unevaluatedProperties", "unevaluatedItems"} & set(schema):
        return schema
    out = dict(schema)
    if "unevaluatedProperties" in out:
        value = out.pop("unevaluatedProperties")
        out.setdefault("additionalProperties", value)
    if "unevaluatedItems" in out and "contains" not in out:
        value = out.pop("unevaluatedItems")
        out.setdefault("items", value)
    return ordered(out)


def _nullable(schema: Template) -> Template:
    """OpenAPI 3.0 `nullable: true`: also accept null."""
    if isinstance(schema, bool):
        return schema
    if isinstance(schema, Ref):
        outer = {k: v for k, v in schema.siblings.items() if k in ANNOTATIONS}
        inner = Ref(schema.target, {k: v for k, v in schema.siblings.items() if k not in outer})
        return ordered({**outer, "anyOf": [inner, dict(_NULL)]})
    if COMPOSITION & schema.keys() or "const" in schema:
        return _wrap_nullable(schema)
    types = _types(schema)
    if types and "null" not in types:
        schema = {**schema, "type": [*types, "null"]}
    if "enum" in schema and None not in schema["enum"]:
        schema = {**schema, "enum": [*schema["enum"], None]}
    return schema


def _wrap_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "null" in _types(schema) or schema.get("const", 0) is None:
        return schema
    outer = {k: v for k, v in schema.items() if k in ANNOTATIONS}
    inner = {k: v for k, v in schema.items() if k not in ANNOTATIONS}
    if list(inner) == ["anyOf"]:
        return ordered({**outer, "anyOf": [*inner["anyOf"], dict(_NULL)]})
    return ordered({**outer, "anyOf": [inner, dict(_NULL)]})
