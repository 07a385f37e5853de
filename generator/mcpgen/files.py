"""A generated file: its bytes and executable bit (shared by the merge and the records)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RenderedFile", "is_binary"]


@dataclass(frozen=True)
class RenderedFile:
    """One file's bytes and whether it is executable."""

    content: bytes
    executable: bool = False


def is_binary(data: bytes) -> bool:
    """True when `data` must never be text-merged: it holds NUL or is not UTF-8."""
    if b"\0" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False
