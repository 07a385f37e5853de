"""Diagnostics: every problem mcpgen reports names the file, the JSON pointer and the line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol

__all__ = [
    "Diagnostic",
    "Level",
    "Locator",
    "McpgenError",
    "Report",
    "diagnostic_json",
    "escape_pointer",
    "join_pointer",
]


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding about the inputs, located as precisely as mcpgen knows."""

    level: Level
    code: str
    message: str
    file: str | None = None
    pointer: str | None = None
    line: int | None = None

    def location(self) -> str:
        if self.file is None:
            return ""
        place = self.file
        if self.pointer is not None:
            place += f"#{self.pointer}"
        if self.line is not None:
            place += f" (line {self.line})"
        return place

    def render(self) -> str:
        where = self.location()
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.level.value}[{self.code}]: {self.message}"


class McpgenError(Exception):
    """Raised when the inputs cannot be turned into a project; carries located diagnostics."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    def __reduce__(self) -> tuple[type[McpgenError], tuple[list[Diagnostic]]]:
        """Pickled with its diagnostics (the default would rebuild it from its message)."""
        return (type(self), (self.diagnostics,))

    @classmethod
    def single(
        cls,
        code: str,
        message: str,
        *,
        file: str | None = None,
        pointer: str | None = None,
        line: int | None = None,
    ) -> McpgenError:
        return cls([Diagnostic(Level.ERROR, code, message, file, pointer, line)])


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, Any]:
    """The one JSON shape of a diagnostic, in every `--json` document."""
    return {
        "code": diagnostic.code,
        "file": diagnostic.file,
        "level": diagnostic.level.value,
        "line": diagnostic.line,
        "message": diagnostic.message,
        "pointer": diagnostic.pointer,
    }


class Locator(Protocol):
    """A loaded document that can locate a JSON pointer into it (see `load.Source`)."""

    @property
    def display(self) -> str: ...

    def place(self, pointer: str) -> tuple[str, str, int | None]:
        """(file, pointer, line): the file differs for parts bundled from other files."""
        ...


@dataclass
class Report:
    """Warnings collected while building; errors are raised as McpgenError instead.

    Documents registered with `locate` give each warning that points into them its line
    (and, for parts bundled from another file, that file and the pointer into it).
    """

    warnings: list[Diagnostic] = field(default_factory=list)
    _sources: dict[str, Locator] = field(default_factory=dict, repr=False)

    def locate(self, source: Locator) -> None:
        self._sources[source.display] = source

    def warn(
        self,
        code: str,
        message: str,
        *,
        file: str | None = None,
        pointer: str | None = None,
        line: int | None = None,
    ) -> None:
        self.add(Diagnostic(Level.WARNING, code, message, file, pointer, line))

    def add(self, diagnostic: Diagnostic) -> None:
        """Record `diagnostic`, with its line filled in when its file is a located source."""
        source = self._sources.get(diagnostic.file) if diagnostic.file is not None else None
        if diagnostic.line is None and diagnostic.pointer is not None and source is not None:
            file, pointer, line = source.place(diagnostic.pointer)
            diagnostic = replace(diagnostic, file=file, pointer=pointer, line=line)
        self.warnings.append(diagnostic)


def escape_pointer(token: str) -> str:
    """Escape one reference token for a JSON pointer (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def join_pointer(base: str, *tokens: str | int) -> str:
    return base + "".join("/" + escape_pointer(str(t)) for t in tokens)
