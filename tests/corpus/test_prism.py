"""Requests exactly as the spec says: Stoplight Prism validates every request a tool sends.

Each server of the fixed tool sample (tests/corpus/conftest.py; Stripe and Twilio in it)
points at Prism in mock mode, which checks each request against the spec (parameter styles,
explode, deepObject, arrays in query strings, form and multipart bodies, content types,
required headers, security) and answers 422 with its violations. Every tool is called with
arguments drawn from its input schema (every argument given; see prism_filter for the one
Prism limitation the arguments steer around). At least 99% of the requests must be accepted,
and each rejection left over must be explained in prism-expected-failures.yml.

`python scripts/corpus.py calls --prism --all` is the full run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.corpus_calls import CallsResult, run_calls, summarize_calls
from tests.corpus.conftest import Generated
from tests.support.node import node_tools

EXPECTED = Path(__file__).with_name("prism-expected-failures.yml")
TARGET = 0.99


def _explained(expected: list[dict[str, Any]], spec: str, tool: str, violation: str) -> int | None:
    for index, entry in enumerate(expected):
        if entry["spec"] == spec and entry["tool"] == tool and entry["violation"] in violation:
            return index
    return None


@pytest.mark.corpus
@pytest.mark.node
@pytest.mark.timeout(30 * 60)
def test_prism_accepts_the_requests(tool_projects: list[Generated]) -> None:
    node_tools()  # fails with the install command when the Node tools are missing
    expected = yaml.safe_load(EXPECTED.read_text(encoding="utf-8"))
    results: list[CallsResult] = []
    for generated in tool_projects:
        if generated.project is not None:
            entry = generated.entry
            results.append(run_calls(entry.id, entry.path, generated.project, prism=True))
    summary = summarize_calls(results, prism=True)
    print(summary)
    assert not [r.failure for r in results if r.failure], summary
    assert not [c for r in results for c in r.crashes()], summary
    sent = [(r.id, c) for r in results for c in r.calls if c.outcome == "request"]
    rejected = [(spec, c) for spec, c in sent if c.violations]
    unexplained = []
    used = set()
    for spec, call in rejected:
        index = _explained(expected, spec, call.tool, call.violations[0])
        if index is None:
            unexplained.append(f"{spec} {call.tool}: {'; '.join(call.violations)[:400]}")
        else:
            used.add(index)
    stale = [f"{e['spec']} {e['tool']}" for i, e in enumerate(expected) if i not in used]
    assert not unexplained, "rejections not in prism-expected-failures.yml:\n" + "\n".join(
        unexplained
    )
    assert not stale, "prism-expected-failures.yml entries no longer rejected:\n" + "\n".join(stale)
    accepted = 1 - len(rejected) / len(sent)
    assert accepted >= TARGET, f"Prism accepted {accepted:.2%} of the requests\n{summary}"
