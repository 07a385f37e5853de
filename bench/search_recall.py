"""Recall of compact exposure's `search_operations` on the task phrasings of search_eval.json.

Run with the generated project's `src` on PYTHONPATH: mcpgen's runtime (which every project
copies verbatim) serves the project's tools/listing.json with compact exposure, and the
official client calls `search_operations` in process, as an agent would::

    PYTHONPATH=PROJECT/src .venv/bin/python bench/search_recall.py \\
        --package github_mcp --api github

Prints JSON: for each split ("dev", "held-out"), the number of queries, recall@1, recall@5,
and the queries whose expected operations were not in the first five. `--split dev` runs the
dev queries only: the held-out ones are for the reported figures, not for tuning.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.types import TextContent

from mcpgen.runtime.compact import CompactServer
from mcpgen.runtime.config import Settings
from mcpgen.runtime.definitions import Catalog, ProjectInfo

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
                "search_operations", {"query": query["query"], "limit": 5}
            )
            block = result.content[0]
            assert isinstance(block, TextContent) and not result.is_error, result
            names = [op["name"] for op in json.loads(block.text)["operations"]]
            split = found.setdefault(query["split"], {"queries": 0, "at1": 0, "at5": 0})
            split["queries"] += 1
            split["at1"] += bool(names) and names[0] in query["expected"]
            if any(name in query["expected"] for name in names):
                split["at5"] += 1
            else:
                split.setdefault("missed", []).append(query["query"])
    for split in found.values():
        split["recall@1"] = round(split.pop("at1") / split["queries"], 3)
        split["recall@5"] = round(split.pop("at5") / split["queries"], 3)
    return found


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
    print(json.dumps(anyio.run(recall, args.package, args.api, args.split), sort_keys=True))


if __name__ == "__main__":
    main()
