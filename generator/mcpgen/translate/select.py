"""Which operations become tools, resources, resource templates, or nothing: the mapping's rules.

Rules are ordered and the first match wins; operations no rule matches get the mapping's
`default`. Overrides are keyed by operationId or by `METHOD /path`; a key that names no
operation is an error located in the mapping file.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache

from ..errors import McpgenError, Report
from ..load import Source
from ..mapping import Kind, Mapping, Match, OperationOverride
from .operations import Operation

__all__ = ["Selected", "path_glob", "select"]


@dataclass(frozen=True)
class Selected:
    op: Operation
    kind: Kind
    override: OperationOverride
    override_key: str | None
    rule: int | None  # index of the rule that decided the kind; None: the default


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    for token in re.split(r"(\*\*|\*)", pattern):
        if token == "**":
            parts.append(".*")
        elif token == "*":
            parts.append("[^/]*")
        else:
            parts.append(re.escape(token))
    return re.compile("^" + "".join(parts) + "$")


def path_glob(pattern: str, path: str) -> bool:
    """`*` matches within one segment, `**` across segments: `/repos/**` matches `/repos/{o}/x`."""
    return bool(_glob_regex(pattern).match(path))


def matches(match: Match, op: Operation) -> bool:
    if match.methods and op.method.upper() not in match.methods:
        return False
    if match.paths and not any(path_glob(p, op.path) for p in match.paths):
        return False
    tags = {str(t) for t in op.node.get("tags") or []}
    if match.tags and not tags & set(match.tags):
        return False
    if match.operation_ids and not (
        op.operation_id
        and any(fnmatch.fnmatchcase(op.operation_id, g) for g in match.operation_ids)
    ):
        return False
    return match.deprecated is None or bool(op.node.get("deprecated")) == match.deprecated


def _override_keys(op: Operation) -> list[str]:
    keys = [f"{op.method.upper()} {op.path}"]
    if op.operation_id:
        keys.insert(0, op.operation_id)
    return keys


def select(
    operations: list[Operation], mapping: Mapping, source: Source | None, report: Report
) -> list[Selected]:
    used: set[str] = set()
    chosen: list[Selected] = []
    deciding: set[int] = set()
    for op in operations:
        rule = next((i for i, r in enumerate(mapping.rules) if matches(r.match, op)), None)
        if rule is not None:
            deciding.add(rule)
        kind = mapping.rules[rule].kind if rule is not None else mapping.default
        key = next((k for k in _override_keys(op) if k in mapping.operations), None)
        override = mapping.operations[key] if key else OperationOverride()
        if key:
            used.add(key)
        if kind != "exclude":
            chosen.append(Selected(op, kind, override, key, rule))
    _warn_unused_rules(operations, mapping, deciding, source, report)
    unknown = sorted(set(mapping.operations) - used)
    if unknown and source is not None:
        raise source.error(
            "mapping-unknown-operation",
            f"`operations` names no operation of the spec: {', '.join(unknown)} "
            "(use an operationId or `METHOD /path`)",
            "/operations/" + unknown[0].replace("~", "~0").replace("/", "~1"),
        )
    if unknown:
        raise McpgenError.single(
            "mapping-unknown-operation", f"unknown operations in the mapping: {unknown}"
        )
    return chosen


def _warn_unused_rules(
    operations: list[Operation],
    mapping: Mapping,
    deciding: set[int],
    source: Source | None,
    report: Report,
) -> None:
    """A rule that decides nothing is usually a typo (a tag, a path) or in the wrong order."""
    for index, rule in enumerate(mapping.rules):
        if index in deciding:
            continue
        if any(matches(rule.match, op) for op in operations):
            why = "earlier rules decide every operation it matches; move it up or remove it"
        else:
            why = "it matches no operation of the spec"
        report.warn(
            "rule-unused",
            f"this rule (as: {rule.kind}) decides no operation: {why}",
            file=source.display if source else None,
            pointer=f"/rules/{index}",
        )
