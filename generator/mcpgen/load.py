"""Stage 1: read a YAML or JSON document, bundle relative-file `$ref`s, locate pointers by line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from .errors import McpgenError, escape_pointer

__all__ = ["Source", "load_document", "parse_text"]

_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
BUNDLE_KEY = "x-mcpgen-bundled"


@dataclass
class Source:
    """A loaded document: its data, where it came from, and a lazy pointer → line lookup."""

    path: Path
    display: str
    text: str
    data: Any
    _lines: dict[str, int] | None = field(default=None, repr=False)

    @property
    def is_json(self) -> bool:
        return self.text.lstrip()[:1] in ("{", "[")

    def line_of(self, pointer: str) -> int | None:
        """The 1-based line where the node at `pointer` starts, or its nearest located parent."""
        if self._lines is None:
            self._lines = _json_lines(self.text) if self.is_json else _yaml_lines(self.text)
        probe = pointer
        while True:
            if probe in self._lines:
                return self._lines[probe]
            if not probe:
                return None
            probe = probe.rsplit("/", 1)[0]

    def error(self, code: str, message: str, pointer: str) -> McpgenError:
        return McpgenError.single(
            code, message, file=self.display, pointer=pointer, line=self.line_of(pointer)
        )


def parse_text(text: str, display: str) -> Any:
    """Parse JSON (fast path) or YAML; a syntax error becomes a located McpgenError."""
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise McpgenError.single(
                "syntax", f"invalid JSON: {exc.msg}", file=display, line=exc.lineno
            ) from None
    try:
        return yaml.load(text, Loader=_YAML_LOADER)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise McpgenError.single(
            "syntax", f"invalid YAML: {exc.problem or exc}", file=display, line=line
        ) from None
    except yaml.YAMLError as exc:
        raise McpgenError.single("syntax", f"invalid YAML: {exc}", file=display) from None


def read_source(path: Path, display: str | None = None) -> Source:
    shown = display or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise McpgenError.single("not-found", "no such file", file=shown) from None
    except OSError as exc:
        raise McpgenError.single("unreadable", exc.strerror or str(exc), file=shown) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise McpgenError.single(
            "encoding", f"not UTF-8 text (byte {exc.start})", file=shown
        ) from None
    return Source(path=path, display=shown, text=text, data=parse_text(text, shown))


def load_document(path: Path, display: str | None = None) -> Source:
    """Load the main document and bundle every relative-file `$ref` into it.

    A reference such as `schemas/pet.yaml#/Pet` is copied under `/x-mcpgen-bundled/<n>/...`
    and rewritten to a local pointer, so later stages only ever see `#/...` references.
    """
    source = read_source(path, display)
    if not isinstance(source.data, dict):
        raise source.error("not-openapi", "the document must be a mapping (an OpenAPI object)", "")
    _Bundler(source).run()
    return source


class _Bundler:
    def __init__(self, main: Source) -> None:
        self.main = main
        self.files: dict[Path, Source] = {main.path.resolve(): main}
        self.slots: dict[Path, str] = {}

    def run(self) -> None:
        self._rewrite(self.main.data, self.main, "")

    def _rewrite(self, node: Any, owner: Source, pointer: str) -> None:
        for child, child_pointer in _walk(node, pointer):
            ref = child.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                child["$ref"] = self._bundle(ref, owner, child_pointer)
            elif isinstance(ref, str) and owner is not self.main:
                child["$ref"] = self.slots[owner.path.resolve()] + ref[1:]

    def _bundle(self, ref: str, owner: Source, pointer: str) -> str:
        target, _, fragment = ref.partition("#")
        if re.match(r"^[a-z][a-z0-9+.-]*://", target):
            raise owner.error(
                "remote-ref",
                f"remote $ref '{ref}' is not fetched; save it next to the spec",
                pointer,
            )
        file = (owner.path.parent / unquote(target)).resolve()
        if file == self.main.path.resolve():
            return "#" + fragment
        if file not in self.files:
            shown = str(Path(owner.display).parent / target)
            if not file.is_file():
                raise owner.error("ref-file", f"$ref '{ref}' names a missing file", pointer)
            external = read_source(file, shown)
            self.files[file] = external
            slot = str(len(self.slots))
            self.main.data.setdefault(BUNDLE_KEY, {})[slot] = external.data
            self.slots[file] = f"#/{BUNDLE_KEY}/{slot}"
            self._rewrite(external.data, external, "")
        return self.slots[file] + fragment


def _walk(node: Any, pointer: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Every mapping below `node` (itself included), depth first, with its pointer."""
    stack: list[tuple[Any, str]] = [(node, pointer)]
    while stack:
        current, here = stack.pop()
        if isinstance(current, dict):
            yield current, here
            stack.extend((v, f"{here}/{escape_pointer(str(k))}") for k, v in current.items())
        elif isinstance(current, list):
            stack.extend((v, f"{here}/{i}") for i, v in enumerate(current))


def _yaml_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    try:
        root = yaml.compose(text, Loader=_YAML_LOADER)
    except yaml.YAMLError:
        return lines
    stack: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    while stack:
        node, pointer = stack.pop()
        lines.setdefault(pointer, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = f"{pointer}/{escape_pointer(str(key.value))}"
                lines[child] = key.start_mark.line + 1
                stack.append((value, child))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{pointer}/{i}") for i, item in enumerate(node.value))
    return lines


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')


def _json_lines(text: str) -> dict[str, int]:
    """Pointer → line for a JSON text, by a light tokenizer (only run when an error is shown)."""
    lines: dict[str, int] = {"": 1}
    # Each frame: [pointer, is_object, next_index, pending_key]
    stack: list[list[Any]] = []
    line = 1
    last = 0
    expecting_key = False
    for match in _JSON_TOKEN.finditer(text):
        line += text.count("\n", last, match.start())
        last = match.start()
        token = match.group()
        frame = stack[-1] if stack else None
        if token in "{[":
            pointer = _json_child(frame, lines, line)
            stack.append([pointer, token == "{", 0, None])
            expecting_key = token == "{"
        elif token in "}]":
            stack.pop()
            expecting_key = False
        elif token == ",":
            expecting_key = bool(frame and frame[1])
        elif token == ":":
            expecting_key = False
        elif frame is not None and frame[1] and expecting_key:
            frame[3] = json.loads(token) if token.startswith('"') else token
            lines[f"{frame[0]}/{escape_pointer(str(frame[3]))}"] = line
        else:
            _json_child(frame, lines, line)
    return lines


def _json_child(frame: list[Any] | None, lines: dict[str, int], line: int) -> str:
    if frame is None:
        return ""
    if frame[1]:
        return f"{frame[0]}/{escape_pointer(str(frame[3]))}"
    pointer = f"{frame[0]}/{frame[2]}"
    frame[2] += 1
    lines.setdefault(pointer, line)
    return pointer
