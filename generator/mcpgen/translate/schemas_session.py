"""One tool schema's worth of conversions: which references become `$defs`, and placing them.

Each `convert` runs in two passes over the templates. The plan pass counts how often every
referenced schema would be expanded (a schema's body is walked once, however often it is
used); the placing pass then writes an inline copy for a schema used once and
`{"$ref": "#/$defs/Name"}` for one used twice or more, recursive, or met too deep.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

from .schemas_budget import Outlines, stub
from .schemas_convert import TemplateBuilder
from .schemas_refs import RefIndex, def_name
from .schemas_tree import SCHEMA_LIST, SCHEMA_MAP, SCHEMA_ONE, Ref, copy_json, merge, ordered

__all__ = ["INLINE_DEPTH", "SchemaSession"]

INLINE_DEPTH = 48  # schema nesting levels; a reference first met deeper goes to $defs
_UNEVALUATED = frozenset({"unevaluatedProperties", "unevaluatedItems"})


def _children(schema: Mapping[str, Any]) -> Iterator[Any]:
    for key, value in schema.items():
        if key in SCHEMA_ONE:
            yield value
        elif key in SCHEMA_LIST:
            yield from value
        elif key in SCHEMA_MAP:
            yield from value.values()


def _trivial(template: Any) -> bool:
    """Schemas no shorter as a reference: always inlined."""
    return isinstance(template, bool) or template == {}


def _as_dict(schema: Any) -> dict[str, Any]:
    if isinstance(schema, dict):
        return schema
    return {} if schema is True else {"not": {}}


def _attach(body: Any, siblings: dict[str, Any]) -> Any:
    """An inlined schema with the keywords written next to its `$ref`."""
    if not siblings:
        return body
    if body is True:
        return ordered(siblings)
    if body is False and "not" not in siblings:
        return ordered({**siblings, "not": {}})
    if isinstance(body, dict):
        merged = merge([siblings, body])
        if merged is not None:
            return merged
    return ordered({**siblings, "allOf": [body]})


class _Plan:
    """The plan pass: the referenced schemas that this conversion puts in `$defs`."""

    def __init__(self, session: SchemaSession, kept: set[str] | None) -> None:
        self._builder = session.builder
        self._refs = session.refs
        self._known = session.names
        self._kept = kept
        self._counts: dict[str, int] = {}
        self._forced: set[str] = set()
        self._queue: deque[str] = deque()

    def run(self, template: Any) -> set[str]:
        self._walk(template, 0)
        while self._queue:
            self._walk(self._builder.template(self._queue.popleft()), 0)
        return self._forced | {t for t, count in self._counts.items() if count > 1}

    def _walk(self, node: Any, level: int) -> None:
        if isinstance(node, Ref):
            self._walk(node.siblings, level)
            self._visit(node.target, level)
        elif isinstance(node, dict):
            for child in _children(node):
                self._walk(child, level + 1)

    def _visit(self, target: str, level: int) -> None:
        if target in self._known or (self._kept is not None and target not in self._kept):
            return
        template = self._builder.template(target)
        if _trivial(template):
            return
        seen = self._counts.get(target, 0)
        self._counts[target] = seen + 1
        if seen:
            return
        if level >= INLINE_DEPTH or self._refs.is_recursive(target):
            self._forced.add(target)
            self._queue.append(target)
        else:
            self._walk(template, level + 1)


class _Placer:
    """The placing pass of one `convert`: a fresh copy of the template, references placed.

    When the budget cut references to stubs, `unevaluatedProperties` / `unevaluatedItems` are
    left out of this conversion: a stub evaluates none of the properties or items that its
    schema did, so beside one of them they would refuse what the full schema accepts.
    """

    def __init__(self, session: SchemaSession, shared: set[str], kept: set[str] | None) -> None:
        self._session = session
        self._shared = shared
        self._kept = kept
        self.pending: deque[str] = deque()

    def expand(self, node: Any) -> Any:
        if isinstance(node, Ref):
            return self._place(node)
        if isinstance(node, dict):
            return self._expand_dict(node)
        return node

    def _expand_dict(self, schema: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _UNEVALUATED and self._kept is not None:
                continue
            if key in SCHEMA_ONE:
                out[key] = self.expand(value)
            elif key in SCHEMA_LIST:
                out[key] = [self.expand(v) for v in value]
            elif key in SCHEMA_MAP:
                out[key] = {name: self.expand(v) for name, v in value.items()}
            else:
                out[key] = copy_json(value)
        return out

    def _place(self, ref: Ref) -> Any:
        siblings = self._expand_dict(ref.siblings)
        session = self._session
        if ref.target in self._shared or ref.target in session.names:
            name = session.name_for(ref.target, self.pending)
            return ordered({"$ref": f"#/$defs/{name}", **siblings})
        template = session.builder.template(ref.target)
        if self._kept is not None and ref.target not in self._kept:
            return _attach(stub(template), siblings)
        return _attach(self.expand(template), siblings)


class SchemaSession:
    """Converts the schemas of one tool; shared and recursive ones end up in `defs()`."""

    def __init__(self, refs: RefIndex, builder: TemplateBuilder, outlines: Outlines) -> None:
        self.refs = refs
        self.builder = builder
        self._outlines = outlines
        self.names: dict[str, str] = {}  # referenced schema pointer → its $defs name
        self._taken: set[str] = set()
        self._bodies: dict[str, dict[str, Any]] = {}

    def convert(self, node: Any, pointer: str) -> dict[str, Any]:
        """The JSON Schema 2020-12 form of the OpenAPI schema `node` found at `pointer`.

        Call `defs()` after the last `convert` of the tool: the fragments refer to it.
        A schema inlined by an earlier `convert` of this session is not turned into a
        reference later; a `$defs` entry made earlier is reused.
        """
        template = self.builder.build(node, pointer)
        kept = self._outlines.kept(template, self.names)
        placer = _Placer(self, _Plan(self, kept).run(template), kept)
        out = _as_dict(placer.expand(template))
        while placer.pending:
            target = placer.pending.popleft()
            body = placer.expand(self.builder.template(target))
            self._bodies[self.names[target]] = _as_dict(body)
        return out

    def defs(self) -> dict[str, dict[str, Any]]:
        """The `$defs` the fragments converted so far refer to, sorted by name."""
        return {name: self._bodies[name] for name in sorted(self._bodies)}

    def resolve(self, node: Any, pointer: str | None = None) -> tuple[Any, str]:
        """Follow `$ref`s (to any kind of object) from `node`; returns the target and its pointer.

        `pointer` locates `node` for diagnostics; it is returned as-is when `node` is no
        reference ("" when not given).
        """
        target, where = self.refs.resolve(node, pointer)
        return target, where or ""

    def name_for(self, target: str, pending: deque[str]) -> str:
        """The `$defs` name of a referenced schema; a new one is queued for expansion."""
        name = self.names.get(target)
        if name is not None:
            return name
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", def_name(target)) or "schema"
        name, suffix = base, 2
        while name in self._taken:
            name, suffix = f"{base}_{suffix}", suffix + 1
        self.names[target] = name
        self._taken.add(name)
        pending.append(target)
        return name
