"""A size budget per converted schema: references too far from the root become open stubs.

Heavily cross-referenced APIs (Stripe: nearly every object reaches every other one) would
otherwise put the whole document's closure into each tool schema. The referenced schemas
are taken in breadth-first layers (layer 1: those the root references, layer 2: those they
reference, ...); whole layers are kept while the estimated JSON size fits the budget, then
the smallest schemas of the next layer that still fit. A root that is a bare reference is
always written out. A schema left out is replaced by a stub that only keeps its `type`:
still a superset of what the full schema accepts, so valid replies still validate.
"""

from __future__ import annotations

import json
from collections.abc import Container
from typing import Any

from .schemas_convert import TemplateBuilder
from .schemas_tree import Ref, Template

__all__ = ["BUDGET", "Outlines", "stub"]

BUDGET = 16_000  # estimated bytes of JSON per converted schema with its new $defs
_REF_STAND_IN = "#/$defs/" + "x" * 16


def _outline(template: Template) -> tuple[int, tuple[str, ...]]:
    """Estimated JSON size of a template on its own, and the schemas it references."""
    targets: dict[str, None] = {}

    def stand_in(value: object) -> object:
        if not isinstance(value, Ref):
            raise TypeError(f"not JSON: {type(value).__name__}")
        targets.setdefault(value.target)
        return {"$ref": _REF_STAND_IN, **value.siblings}

    text = json.dumps(template, separators=(",", ":"), ensure_ascii=False, default=stand_in)
    return len(text), tuple(targets)


def stub(template: Template) -> Any:
    """The open stand-in for a schema left out: its `type` only."""
    if isinstance(template, bool):
        return template
    kind = template.get("type") if isinstance(template, dict) else None
    return {"type": list(kind) if isinstance(kind, list) else kind} if kind else {}


class Outlines:
    """Memoized outlines of referenced schemas, and the budget cut for a root."""

    def __init__(self, builder: TemplateBuilder, budget: int) -> None:
        self._builder = builder
        self._budget = budget
        self._memo: dict[str, tuple[int, tuple[str, ...]]] = {}

    def _of(self, target: str) -> tuple[int, tuple[str, ...]]:
        found = self._memo.get(target)
        if found is None:
            found = self._memo[target] = _outline(self._builder.template(target))
        return found

    def kept(self, root: Template, placed: Container[str]) -> set[str] | None:
        """The referenced schemas to write out in full for `root`; None when all fit.

        `placed` are schemas already in the session's `$defs`: free, not followed.
        """
        total, refs = _outline(root)
        kept: set[str] = set()
        if isinstance(root, Ref) and root.target not in placed:
            kept.add(root.target)
            total += self._of(root.target)[0]
            refs = self._of(root.target)[1]
        layer = [t for t in refs if t not in placed and t not in kept]
        while layer:
            size = sum(self._of(t)[0] for t in layer)
            if total + size > self._budget:
                return kept | self._fill(layer, self._budget - total)
            total += size
            kept.update(layer)
            following: dict[str, None] = {}
            for target in layer:
                following.update(
                    (t, None) for t in self._of(target)[1] if t not in kept and t not in placed
                )
            layer = list(following)
        return None

    def _fill(self, layer: list[str], room: int) -> set[str]:
        """The smallest schemas of a layer that fit in `room` together."""
        chosen: set[str] = set()
        for target in sorted(layer, key=lambda t: self._of(t)[0]):
            room -= self._of(target)[0]
            if room < 0:
                break
            chosen.add(target)
        return chosen
