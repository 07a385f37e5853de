"""Recall of compact exposure's `search_operations` on the task phrasings of search_eval.json.

Run with the generated project's `src` on PYTHONPATH: mcpgen's runtime (which every project
copies verbatim) serves the project's tools/listing.json with compact exposure, and the
official client calls `search_operations` in process, as an agent would::

    PYTHONPATH=PROJECT/src .venv/bin/python bench/search_recall.py \\
        --package github_mcp --api github

Prints JSON: for each split ("dev", "held-out"), the number of queries, recall@1, recall@5,
recall@10 (the tool's default page) and the queries whose expected operations were not in the
first five; under "index", what the search index costs (`cost`). `--split dev` runs the dev
queries only: the held-out ones are for the reported figures, not for tuning.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import statistics
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.types import TextContent

from mcpgen.runtime.compact import CompactServer
from mcpgen.runtime.config import Settings
from mcpgen.runtime.definitions import Catalog, ProjectInfo
from mcpgen.runtime.search import Document, SearchIndex

EVAL = Path(__file__).resolve().parent / "search_eval.json"


async def recall(package: str, api: str, splits: Sequence[str] = ()) -> dict[str, Any]:
    own = importlib.import_module(f"{package}.project").PROJECT
    values = {f.name: getattr(own, f.name) for f in dataclasses.fields(ProjectInfo)}
    project = ProjectInfo(**{**values, "exposure": "compact"})
    server = CompactServer(project, Settings(), Catalog.read(f"{package}.tools"))
    queries = json.loads(EVAL.read_text(encoding="utf-8"))["apis"][api]["queries"]
    queries = [q for q in queries if not splits or q["split"] in splits]
    found: dict[str, dict[str, Any]] = {}
    async with Client(server) as client:
        for query in queries:
            result = await client.call_tool(
                "search_operations", {"query": query["query"], "limit": 10}
            )
            block = result.content[0]
            assert isinstance(block, TextContent) and not result.is_error, result
            names = [op["name"] for op in json.loads(block.text)["operations"]]
            split = found.setdefault(query["split"], {"queries": 0, "at1": 0, "at5": 0, "at10": 0})
            split["queries"] += 1
            split["at1"] += bool(names) and names[0] in query["expected"]
            split["at10"] += any(name in query["expected"] for name in names)
            if any(name in query["expected"] for name in names[:5]):
                split["at5"] += 1
            else:
                split.setdefault("missed", []).append(query["query"])
    for split in found.values():
        for k in (1, 5, 10):
            split[f"recall@{k}"] = round(split.pop(f"at{k}") / split["queries"], 3)
    return found


def cost(package: str, api: str) -> dict[str, float]:
    """What the index costs: its build (median of 5, as the first search builds it), the
    memory it holds (tracemalloc, one more build) and a query (median and p90 over every
    phrasing of the API, limit 10)."""
    entries = [e for e in Catalog.read(f"{package}.tools") if e.kind == "tool"]

    def build() -> SearchIndex:
        return SearchIndex(
            Document.of(e.tool, e.method, e.path, e.tags, e.phrases) for e in entries
        )

    builds = []
    for _ in range(5):
        started = time.perf_counter()
        index = build()
        builds.append(time.perf_counter() - started)
    tracemalloc.start()
    index = build()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    queries = json.loads(EVAL.read_text(encoding="utf-8"))["apis"][api]["queries"]
    took = []
    for query in queries:
        started = time.perf_counter()
        index.search(query["query"], 10)
        took.append(time.perf_counter() - started)
    took.sort()
    return {
        "build_s": round(statistics.median(builds), 3),
        "held_mib": round(held / 2**20, 1),
        "query_ms_p50": round(statistics.median(took) * 1000, 1),
        "query_ms_p90": round(took[int(len(took) * 0.9)] * 1000, 1),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", required=True, help="the generated package, e.g. github_mcp")
    parser.add_argument("--api", required=True, help="the key of the API in search_eval.json")
    parser.add_argument(
        "--split",
        action="append",
        default=[],
        choices=("dev", "held-out"),
        help="only these queries (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    found = anyio.run(recall, args.package, args.api, args.split)
    print(json.dumps({**found, "index": cost(args.package, args.api)}, sort_keys=True))


if __name__ == "__main__":
    main()
