"""One sanitizer chain for every generated name: tool names, Python identifiers, modules.

Tool names must match `^[a-zA-Z0-9_-]{1,64}$` on the *final* name: shortening is readable
first (drop repeated words, then `by_<param>` phrases, then middle words) and falls back to a
short hash only when nothing else fits. Allocators give deterministic `_2`, `_3` suffixes.
"""

from __future__ import annotations

import builtins
import hashlib
import keyword
import re
from collections.abc import Iterable

from .errors import McpgenError, Report

__all__ = [
    "MAX_TOOL_NAME",
    "NameAllocator",
    "operation_words",
    "project_names",
    "py_identifier",
    "shorten",
    "snake",
    "tool_name_ok",
]

MAX_TOOL_NAME = 64
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
_HTTP_VERBS = {
    "get": "get",
    "post": "create",
    "put": "replace",
    "patch": "update",
    "delete": "delete",
    "head": "head",
    "options": "options",
    "trace": "trace",
}


def snake(text: str) -> str:
    """`listBooks` → `list_books`, `X-Request-Id` → `x_request_id`; '' when nothing is left."""
    spaced = _CAMEL.sub("_", text)
    cleaned = re.sub(r"[^0-9A-Za-z]+", "_", spaced).strip("_").lower()
    return re.sub(r"_+", "_", cleaned)


def tool_name_ok(name: str) -> bool:
    return bool(_TOOL_NAME.match(name))


def py_identifier(text: str, *, fallback: str = "value") -> str:
    """A safe Python identifier: never a keyword or builtin, never starting with a digit."""
    name = snake(text) or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    if name in _RESERVED or name.startswith("__"):
        name += "_"
    return name


def operation_words(method: str, path: str) -> list[str]:
    """Words for an operation without an operationId: the verb, then the path's nouns.

    `GET /authors/{authorId}/books` → ['get', 'authors', 'by', 'author', 'id', 'books'].
    """
    words = [_HTTP_VERBS.get(method.lower(), snake(method))]
    for segment in path.strip("/").split("/"):
        if not segment:
            continue
        if segment.startswith("{") and segment.endswith("}"):
            words.extend(["by", *snake(segment[1:-1]).split("_")])
        else:
            words.extend(w for w in snake(segment).split("_") if w)
    return words


def shorten(name: str, limit: int = MAX_TOOL_NAME) -> str:
    """Shorten a snake_case name to `limit` characters, as readably as possible."""
    if len(name) <= limit:
        return name
    words = [w for w in name.split("_") if w]
    steps = (_drop_repeats, _drop_by_phrases, _drop_middle)
    for step in steps:
        words = step(words, limit)
        candidate = "_".join(words)
        if len(candidate) <= limit:
            return candidate
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{'_'.join(words)[: limit - 7].rstrip('_')}_{digest}"


def _drop_repeats(words: list[str], limit: int) -> list[str]:
    seen: set[str] = set()
    kept: list[str] = []
    for word in words:
        if word not in seen:
            kept.append(word)
        seen.add(word)
    return kept


def _drop_by_phrases(words: list[str], limit: int) -> list[str]:
    kept = list(words)
    while len("_".join(kept)) > limit and "by" in kept[1:]:
        at = kept.index("by", 1)
        end = at + 1
        while end < len(kept) and kept[end] not in ("by",) and end - at <= 2:
            end += 1
        kept = kept[:at] + kept[end:]
    return kept


def _drop_middle(words: list[str], limit: int) -> list[str]:
    """Keep the verb (first word) and the object (last words); drop from the middle."""
    kept = list(words)
    while len("_".join(kept)) > limit and len(kept) > 2:
        del kept[len(kept) // 2]
    return kept


class NameAllocator:
    """Hands out unique names in one scope, with deterministic numeric suffixes."""

    def __init__(
        self, scope: str, report: Report, file: str | None = None, limit: int = MAX_TOOL_NAME
    ) -> None:
        """`file`: the spec the `where` pointers of `allocate` point into, for warnings."""
        self.scope = scope
        self.report = report
        self.file = file
        self.limit = limit
        self.taken: set[str] = set()

    def reserve(self, names: Iterable[str]) -> None:
        self.taken.update(names)

    def allocate(self, wanted: str, *, where: str | None = None) -> str:
        name = shorten(wanted, self.limit)
        if name != wanted:
            self.report.warn(
                "name-shortened",
                f"{self.scope} name '{wanted}' shortened to '{name}'",
                file=self.file,
                pointer=where,
            )
        if name in self.taken:
            number = 2
            while True:
                suffix = f"_{number}"
                candidate = shorten(name, self.limit - len(suffix)) + suffix
                if candidate not in self.taken:
                    break
                number += 1
            self.report.warn(
                "name-collision",
                f"{self.scope} name '{name}' is taken; using '{candidate}'",
                file=self.file,
                pointer=where,
            )
            name = candidate
        self.taken.add(name)
        return name


def project_names(name: str, file: str | None = None) -> tuple[str, str, str]:
    """(server name, distribution and script name, Python package) for a given name."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not cleaned:
        raise McpgenError.single("bad-name", f"'{name}' gives no usable project name", file=file)
    dist = cleaned if cleaned.endswith("mcp") else f"{cleaned}-mcp"
    package = py_identifier(dist, fallback="server")
    return cleaned, dist, package
