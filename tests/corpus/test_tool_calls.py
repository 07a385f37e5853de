"""Every tool of servers generated from real specs is called, not only listed.

Each tool of the fixed tool sample (tests/corpus/conftest.py) is called with no optional
arguments and with all of them, bodies included, against a recording upstream on 127.0.0.1.
A call must end in a request or in a clean error: never in an exception inside the server,
a protocol error or a traceback in its log. `python scripts/corpus.py calls --all` is the
full run.
"""

from __future__ import annotations

import pytest

from scripts.corpus_calls import CallsResult, run_calls, summarize_calls
from tests.corpus.conftest import Generated


@pytest.mark.corpus
@pytest.mark.timeout(30 * 60)
def test_every_tool_is_called(tool_projects: list[Generated]) -> None:
    results: list[CallsResult] = []
    for generated in tool_projects:
        if generated.project is None:
            continue  # mcpgen refused the spec cleanly; tests/corpus/test_corpus.py checks that
        results.append(
            run_calls(generated.entry.id, generated.entry.path, generated.project, prism=False)
        )
    print(summarize_calls(results, prism=False))
    ids = {r.id for r in results}
    assert {"apis-guru/stripe.com.json", "apis-guru/twilio.com/api.json"} <= ids
    assert not [r.failure for r in results if r.failure], summarize_calls(results, prism=False)
    crashes = [f"{r.id} {c.tool} ({c.mode}): {c.detail}" for r in results for c in r.crashes()]
    assert not crashes, "\n".join(crashes)
    calls = [c for r in results for c in r.calls]
    sent = sum(c.outcome == "request" for c in calls)
    assert sent >= 0.99 * len(calls), summarize_calls(results, prism=False)
    stripe = next(r for r in results if r.id == "apis-guru/stripe.com.json")
    assert stripe.tools == 452 and stripe.counts()["request"] >= 900
