"""Diagnostics: every problem mcpgen reports names the file, the JSON pointer and the line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Diagnostic", "Level", "McpgenError", "Report", "escape_pointer", "join_pointer"]


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


@dataclass
class Report:
    """Warnings collected while building; errors are raised as McpgenError instead."""

    warnings: list[Diagnostic] = field(default_factory=list)

    def warn(
        self, code: str, message: str, *, file: str | None = None, pointer: str | None = None
    ) -> None:
        self.warnings.append(Diagnostic(Level.WARNING, code, message, file, pointer))


def escape_pointer(token: str) -> str:
    """Escape one reference token for a JSON pointer (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def join_pointer(base: str, *tokens: str | int) -> str:
    return base + "".join("/" + escape_pointer(str(t)) for t in tokens)
