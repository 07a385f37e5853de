"""Stage 1: read a YAML or JSON document, bundle relative-file `$ref`s, locate pointers by line."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

import yaml

from .errors import McpgenError, escape_pointer

__all__ = ["InputFiles", "Source", "load_document", "parse_text", "read_source"]

_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
BUNDLE_KEY = "x-mcpgen-bundled"


class InputFiles:
    """The files one run reads its inputs from, each read once.

    A run records a digest of its inputs, and the next run trusts that digest to mean "the
    same output": it must be the digest of the bytes the output was made from. Every read of
    an input in one run goes through one `InputFiles`, so a later look at a file (the spec,
    a file its `$ref`s name, the mapping) sees the bytes of the first, even when the file
    changed on disk in between.
    """

    def __init__(self) -> None:
        self._read: dict[Path, bytes | OSError] = {}

    def read(self, path: Path) -> bytes:
        """The file's bytes, as first read in this run; its OSError when it could not be."""
        key = path.resolve()
        if key not in self._read:
            try:
                self._read[key] = path.read_bytes()
            except OSError as exc:
                self._read[key] = exc
        found = self._read[key]
        if isinstance(found, OSError):
            raise found
        return found


@dataclass
class Source:
    """A loaded document: its data, the bytes it was parsed from, where it came from, and a
    lazy pointer → line lookup."""

    path: Path
    display: str
    text: str
    data: Any
    raw: bytes = field(repr=False)  # the file's bytes, as read: what the inputs digest hashes
    _lines: _Lines | None = field(default=None, repr=False)
    # "/x-mcpgen-bundled/<n>" → the file bundled there (only the main document has any)
    bundled: dict[str, Source] = field(default_factory=dict, repr=False)

    @property
    def is_json(self) -> bool:
        return self.text.lstrip()[:1] in ("{", "[")

    @property
    def contents(self) -> tuple[bytes, ...]:
        """The bytes of this document, then of each file bundled into it (as bundled)."""
        return (self.raw, *(source.raw for source in self.bundled.values()))

    def line_of(self, pointer: str) -> int | None:
        """The 1-based line where the node at `pointer` starts, or its nearest located parent."""
        if self._lines is None:
            self._lines = _JsonLines(self.text) if self.is_json else _YamlLines(self.text)
        return self._lines.line_of(pointer)

    def place(self, pointer: str) -> tuple[str, str, int | None]:
        """(file, pointer, line) of `pointer`: in the file it was bundled from, if it was."""
        for prefix, source in self.bundled.items():
            if pointer.startswith(prefix + "/") or pointer == prefix:
                inner = pointer[len(prefix) :]
                return source.display, inner, source.line_of(inner)
        return self.display, pointer, self.line_of(pointer)

    def error(self, code: str, message: str, pointer: str) -> McpgenError:
        file, where, line = self.place(pointer)
        return McpgenError.single(code, message, file=file, pointer=where, line=line)


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


def read_source(path: Path, display: str | None = None, files: InputFiles | None = None) -> Source:
    """Read and parse one file (through `files`, when given, so it is read once a run)."""
    shown = display or str(path)
    try:
        raw = files.read(path) if files is not None else path.read_bytes()
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
    return Source(path=path, display=shown, text=text, data=parse_text(text, shown), raw=raw)


def load_document(
    path: Path, display: str | None = None, files: InputFiles | None = None
) -> Source:
    """Load the main document and bundle every relative-file `$ref` into it.

    A reference such as `schemas/pet.yaml#/Pet` is copied under `/x-mcpgen-bundled/<n>/...`
    and rewritten to a local pointer, so later stages only ever see `#/...` references.
    Every file is read through `files` (a fresh `InputFiles` when None): once.
    """
    files = files if files is not None else InputFiles()
    source = read_source(path, display, files)
    if not isinstance(source.data, dict):
        raise source.error("not-openapi", "the document must be a mapping (an OpenAPI object)", "")
    if _may_refer_out(source.text):
        _Bundler(source, files).run()
    return source


# A `$ref` key whose value does not plainly start with `#`, however the key is quoted.
_OUTWARD_REF = re.compile(r"""\$ref["']?\s*:(?!\s*["']?#)""")
_ESCAPED_DOLLAR = ("\\u0024", "\\x24", "\\U00000024")  # `$` written as an escape


def _may_refer_out(text: str) -> bool:
    """False when the text certainly holds no reference to another file (the bundler then
    need not visit every node: GitHub's 13 MB have 5,000 refs, all local)."""
    if any(escaped in text for escaped in _ESCAPED_DOLLAR):
        return True
    return _OUTWARD_REF.search(text) is not None


class _Bundler:
    def __init__(self, main: Source, files: InputFiles) -> None:
        self.main = main
        self.input_files = files
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
            external = read_source(file, shown, self.input_files)
            self.files[file] = external
            slot = str(len(self.slots))
            self.main.data.setdefault(BUNDLE_KEY, {})[slot] = external.data
            self.slots[file] = f"#/{BUNDLE_KEY}/{slot}"
            self.main.bundled[f"/{BUNDLE_KEY}/{slot}"] = external
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


class _Lines(Protocol):
    def line_of(self, pointer: str) -> int | None: ...


class _YamlLines:
    """Pointer → line for a YAML text, from its composed node tree (built on first use)."""

    def __init__(self, text: str) -> None:
        self._lines = _yaml_lines(text)

    def line_of(self, pointer: str) -> int | None:
        probe = pointer
        while True:
            if probe in self._lines:
                return self._lines[probe]
            if not probe:
                return None
            probe = probe.rsplit("/", 1)[0]


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


_JSON_SPACE = re.compile(r"[ \t\n\r]*")


class _JsonLines:
    """Pointer → line for a JSON text (one that parsed), found on demand.

    Only the containers along a requested pointer are read, once each; the values beside
    it are skipped by the C JSON scanner. A few lookups in a 13 MB spec take ~0.1 s where
    indexing every node took ~2 s.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._decoder = json.JSONDecoder()
        # Only the end of a skipped value matters: objects are not built (twice as fast).
        self._skipper = json.JSONDecoder(object_pairs_hook=_nothing)
        self._newlines: list[int] | None = None
        start = _JSON_SPACE.match(text).end()  # type: ignore[union-attr]  # always matches
        self._nodes: dict[str, tuple[int, int]] = {"": (start, start)}  # → (line at, value at)
        self._read: set[str] = set()

    def line_of(self, pointer: str) -> int | None:
        here = ""
        for token in pointer.split("/")[1:]:
            child = f"{here}/{token}"
            if child not in self._nodes:
                if here not in self._read:
                    self._read_members(here)
                if child not in self._nodes:
                    break
            here = child
        return self._line(self._nodes[here][0])

    def _line(self, offset: int) -> int:
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self._text)]
        return bisect.bisect_left(self._newlines, offset) + 1

    def _read_members(self, pointer: str) -> None:
        """Record where each member of the container at `pointer` starts."""
        self._read.add(pointer)
        text, at = self._text, self._nodes[pointer][1]
        if at >= len(text) or text[at] not in "{[":
            return
        is_object = text[at] == "{"
        close = "}" if is_object else "]"
        i = self._space(at + 1)
        index = 0
        while i < len(text) and text[i] != close:
            start = i
            if is_object:
                key, i = self._decoder.raw_decode(text, i)
                i = self._space(self._space(i) + 1)  # past the colon
                token = escape_pointer(str(key))
            else:
                token, index = str(index), index + 1
            self._nodes[f"{pointer}/{token}"] = (start, i)
            _, i = self._skipper.raw_decode(text, i)
            i = self._space(i)
            if i < len(text) and text[i] == ",":
                i = self._space(i + 1)

    def _space(self, at: int) -> int:
        return _JSON_SPACE.match(self._text, at).end()  # type: ignore[union-attr]


def _nothing(pairs: object) -> None:
    return None
