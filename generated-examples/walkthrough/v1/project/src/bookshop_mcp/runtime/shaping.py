"""Reply shaping: keep only the fields the mapping lists, to cut large replies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["keep_fields"]


def keep_fields(data: Any, fields: Sequence[str]) -> Any:
    """Keep the dotted paths in `fields` (lists are stepped through); drop everything else."""
    return _keep(data, [f.split(".") for f in fields])


def _keep(data: Any, paths: list[list[str]]) -> Any:
    if isinstance(data, list):
        return [_keep(item, paths) for item in data]
    if not isinstance(data, dict):
        return data
    kept: dict[str, Any] = {}
    for key, value in data.items():
        below = [p[1:] for p in paths if p and p[0] == key]
        if not below:
            continue
        kept[key] = value if any(not p for p in below) else _keep(value, [p for p in below if p])
    return kept
