"""Local `$ref` resolution over the whole document, and which schemas are recursive.

Pointers are kept in their canonical escaped form without the leading `#`
(`/components/schemas/Pet`), the form diagnostics print.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote

from ..errors import McpgenError, join_pointer
from .schemas_tree import SCHEMA_LIST, SCHEMA_MAP, SCHEMA_ONE, SILENT_KEYWORDS

__all__ = ["RefIndex", "def_name", "unescape"]

_SCHEMA_TOKENS = frozenset({"schema", "schemas", "$defs", "definitions"})


def unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def def_name(pointer: str) -> str:
    """The readable part of a schema's pointer: `Pet` for `/components/schemas/Pet`."""
    tokens = [unescape(t) for t in pointer.split("/")[1:]]
    if tokens[:2] == ["components", "schemas"] and len(tokens) > 2:
        tokens = tokens[2:]
    return ".".join(tokens)


def _is_schema_location(pointer: str) -> bool:
    tokens = [unescape(t) for t in pointer.split("/")[1:]]
    if tokens[:2] == ["components", "schemas"]:
        return len(tokens) > 2
    return any(t in _SCHEMA_TOKENS for t in tokens)


def _is_pure_alias(node: Any) -> bool:
    """`{"$ref": ...}` with nothing else that conversion keeps."""
    if not isinstance(node, Mapping) or not isinstance(node.get("$ref"), str):
        return False
    return all(k == "$ref" or k in SILENT_KEYWORDS or k.startswith("x-") for k in node)


def _schema_children(node: Mapping[str, Any], pointer: str) -> Iterator[tuple[Any, str]]:
    """The sub-schemas of a raw schema object, with their pointers."""
    for key, value in node.items():
        at = join_pointer(pointer, key)
        if key in SCHEMA_ONE and isinstance(value, list):  # tuple-form `items`
            yield from ((v, join_pointer(at, i)) for i, v in enumerate(value))
        elif key in SCHEMA_ONE:
            yield value, at
        elif key in SCHEMA_LIST and isinstance(value, list):
            yield from ((v, join_pointer(at, i)) for i, v in enumerate(value))
        elif key in SCHEMA_MAP and isinstance(value, Mapping):
            yield from ((v, join_pointer(at, name)) for name, v in value.items())


class RefIndex:
    """Looks up pointers, follows `$ref` chains and finds reference cycles, all memoized."""

    def __init__(self, document: Mapping[str, Any], file: str) -> None:
        self._file = file
        self._nodes: dict[str, Any] = {"": document}
        self._targets: dict[str, str] = {}
        self._edges: dict[str, tuple[str, ...]] = {}
        self._recursive: dict[str, bool] = {}

    def error(self, code: str, message: str, pointer: str | None) -> McpgenError:
        return McpgenError.single(code, message, file=self._file, pointer=pointer)

    def pointer_of(self, ref: str, at: str | None) -> str:
        """The canonical pointer named by a local `$ref` string."""
        if not ref.startswith("#"):
            raise self.error("schema-ref", f"only local $refs (#/...) are supported: '{ref}'", at)
        fragment = unquote(ref[1:])
        if fragment and not fragment.startswith("/"):
            raise self.error("schema-ref", f"cannot resolve $ref '{ref}'", at)
        tokens = [unescape(t) for t in fragment.split("/")[1:]] if fragment else []
        return join_pointer("", *tokens)

    def lookup(self, pointer: str, ref: str, at: str | None) -> Any:
        """The node at a canonical pointer; a located error if there is none."""
        if pointer in self._nodes:
            return self._nodes[pointer]
        parent_pointer, _, last = pointer.rpartition("/")
        parent = self.lookup(parent_pointer, ref, at)
        token = unescape(last)
        if isinstance(parent, Mapping) and token in parent:
            node = parent[token]
        elif isinstance(parent, list) and token.isdigit() and int(token) < len(parent):
            node = parent[int(token)]
        else:
            raise self.error("schema-ref", f"cannot resolve $ref '{ref}'", at)
        self._nodes[pointer] = node
        return node

    def resolve(self, node: Any, pointer: str | None) -> tuple[Any, str | None]:
        """Follow a `$ref` chain to any kind of object; cycles and dangling refs are errors."""
        seen: list[str] = []
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            target = self.pointer_of(ref, pointer)
            if target in seen:
                raise self.error("schema-ref", f"$ref cycle with no schema at '{ref}'", pointer)
            seen.append(target)
            node = self.lookup(target, ref, pointer)
            pointer = target
        return node, pointer

    def schema_target(self, ref: str, at: str) -> str:
        """The schema a `$ref` names, past any chain of bare `{"$ref": ...}` aliases."""
        known = self._targets.get(ref)
        if known is not None:
            return known
        seen: list[str] = []
        current, where = ref, at
        while True:
            target = self.pointer_of(current, where)
            node = self.lookup(target, current, where)
            if not _is_schema_location(target) or not isinstance(node, Mapping | bool):
                raise self.error(
                    "schema-ref", f"$ref '{current}' does not point to a schema", where
                )
            if not isinstance(node, Mapping) or not _is_pure_alias(node):
                break
            if target in seen:
                raise self.error("schema-ref", f"$ref cycle with no schema at '{ref}'", at)
            seen.append(target)
            current, where = node["$ref"], target
        self._targets[ref] = target
        return target

    def edges(self, target: str) -> tuple[str, ...]:
        """Every schema referenced from inside the schema at `target`."""
        known = self._edges.get(target)
        if known is not None:
            return known
        found: dict[str, None] = {}
        stack: list[tuple[Any, str]] = [(self._nodes[target], target)]
        while stack:
            node, pointer = stack.pop()
            if not isinstance(node, Mapping):
                continue
            ref = node.get("$ref")
            if isinstance(ref, str):
                found.setdefault(self.schema_target(ref, pointer))
            stack.extend(reversed(list(_schema_children(node, pointer))))
        self._edges[target] = tuple(found)
        return self._edges[target]

    def is_recursive(self, target: str) -> bool:
        """Whether the schema at `target` can reach itself through references."""
        if target not in self._recursive:
            self._find_cycles(target)
        return self._recursive[target]

    def _find_cycles(self, start: str) -> None:
        """Tarjan's strongly connected components, iteratively, from `start`."""
        index: dict[str, int] = {start: 0}
        low: dict[str, int] = {start: 0}
        stack: list[str] = [start]
        on_stack: set[str] = {start}
        work: list[tuple[str, Iterator[str]]] = [(start, iter(self.edges(start)))]
        while work:
            node, successors = work[-1]
            pushed = False
            for succ in successors:
                if succ in self._recursive:
                    continue
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(self.edges(succ))))
                    pushed = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if pushed:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                self._close_component(node, stack, on_stack)

    def _close_component(self, root: str, stack: list[str], on_stack: set[str]) -> None:
        members: list[str] = []
        while True:
            member = stack.pop()
            on_stack.discard(member)
            members.append(member)
            if member == root:
                break
        cyclic = len(members) > 1 or root in self.edges(root)
        for member in members:
            self._recursive[member] = cyclic
