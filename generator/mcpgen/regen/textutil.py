"""Byte-level helpers: binary detection and CRLF handling."""

from __future__ import annotations

from mcpgen.files import is_binary

__all__ = ["is_binary", "is_crlf", "to_crlf", "to_lf"]


def is_crlf(data: bytes) -> bool:
    """True when every line break in `data` is CRLF (and there is at least one)."""
    breaks = data.count(b"\n")
    return breaks > 0 and data.count(b"\r\n") == breaks


def to_lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def to_crlf(data: bytes) -> bytes:
    return to_lf(data).replace(b"\n", b"\r\n")
