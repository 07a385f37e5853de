"""`mcpgen init`: a starter mapping file, grouped by tag, for the user to curate."""

from __future__ import annotations

import json
from collections import defaultdict

from .spec import Spec
from .translate import default_name
from .translate.operations import iter_operations

__all__ = ["COMPACT_ABOVE", "starter_mapping"]

COMPACT_ABOVE = 60  # operations; beyond this, one tool per operation overflows most clients


def _flow(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def starter_mapping(spec: Spec) -> str:
    document = spec.data
    operations = iter_operations(document)
    live = [op for op in operations if not op.node.get("deprecated")]
    deprecated = len(operations) - len(live)
    by_tag: dict[str, list[str]] = defaultdict(list)
    for op in live:
        tags = [str(t) for t in op.node.get("tags") or []] or ["(untagged)"]
        by_tag[tags[0]].append(op.operation_id or f"{op.method.upper()} {op.path}")
    large = len(live) > COMPACT_ABOVE
    title = (document.get("info") or {}).get("title") or "the API"
    lines = [
        f"# mcpgen mapping for {title}: {len(live)} operations"
        + (f" ({deprecated} deprecated, excluded below)" if deprecated else "")
        + ".",
        "# Every key is documented in mcpgen's README; the file is checked strictly.",
        "version: 1",
        "server:",
        f"  name: {json.dumps(default_name(document))}",
        "",
    ]
    if large:
        lines += [
            f"# {len(live)} operations are more tools than most clients accept (Cursor 40,",
            "# Windsurf 50, Copilot 128): compact exposure lists three meta-tools instead",
            "# (search, describe, call) that reach every operation.",
            "exposure: compact",
        ]
    else:
        lines.append("exposure: tools")
    tagged = any(tag != "(untagged)" for tag in by_tag)
    lines += [
        "",
        "# Ordered rules: the first that matches an operation decides what it becomes.",
        "rules:" if deprecated or tagged else "rules: []",
    ]
    if deprecated:  # only then: a rule that decides nothing is warned about
        lines += ["  - match: {deprecated: true}", "    as: exclude"]
    for tag in sorted(by_tag):
        names = by_tag[tag]
        lines.append(
            f"  # {tag}: {len(names)} operation{'s' if len(names) != 1 else ''}: "
            + ", ".join(names[:8])
            + (", ..." if len(names) > 8 else "")
        )
        if tag != "(untagged)":
            lines += [f"  - match: {{tags: {_flow([tag])}}}", "    as: tool"]
    lines += [
        "default: tool",
        "",
        "# Per-operation changes, keyed by operationId or 'METHOD /path', for example:",
        "#   listBooks:",
        "#     name: find_books",
        "#     description: Find books by author or genre.",
        "#     arguments: {X-Request-Id: {hidden: true, value: mcp}}",
        "#     keep_fields: [items.id, items.title]",
        "operations: {}",
        "",
    ]
    return "\n".join(lines)
