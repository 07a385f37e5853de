"""`mcpgen plan` and `mcpgen init` through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from mcpgen.mapping import load_mapping
from mcpgen.plan import BYTES_PER_TOKEN, META_TOOLS_BYTES, META_TOOLS_MODEL_BYTES

ROOT = Path(__file__).resolve().parents[2]
BOOKSHOP = ROOT / "specs/bookshop/openapi.yaml"


def mcpgen(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def big_spec(tmp_path: Path, count: int) -> Path:
    paths = {
        f"/things{i}/{{id}}": {
            "get": {
                "operationId": f"getThing{i}",
                "tags": [f"group{i % 3}"],
                "deprecated": i == 0,
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"204": {"description": "ok"}},
            }
        }
        for i in range(count)
    }
    document = {"openapi": "3.1.0", "info": {"title": "Big API", "version": "1"}, "paths": paths}
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    return spec


def test_plan_table_and_json_agree() -> None:
    text = mcpgen("plan", str(BOOKSHOP))
    assert text.returncode == 0, text.stderr
    assert "get_book" in text.stdout and "GET /books/{bookId} (getBook)" in text.stdout
    data = json.loads(mcpgen("plan", str(BOOKSHOP), "--json").stdout)
    assert data["operations"] == data["listed_tools"] == 8
    assert data["total_tokens"] == sum(r["tokens"] for r in data["rows"])
    assert data["wire_bytes"] == sum(r["wire_bytes"] for r in data["rows"])
    assert f"about {data['total_tokens']:,} tokens" in text.stdout
    assert f"{data['wire_bytes']:,} bytes of tools/list on the wire" in text.stdout
    for row in data["rows"]:  # models read less than the wire carries (no output schema...)
        assert 0 < row["tokens"] * BYTES_PER_TOKEN < row["wire_bytes"] + BYTES_PER_TOKEN


def test_plan_json_is_a_worklist_for_search_phrases(tmp_path: Path) -> None:
    """Each row says the operation's title and how many search phrases the mapping gives it:
    what a team (or a model) needs to write phrases for the operations that have none."""
    mapping = tmp_path / "mcpgen.yaml"
    mapping.write_text("operations:\n  getBook:\n    search: [look a book up, book details]\n")
    done = mcpgen("plan", str(BOOKSHOP), "-m", str(mapping), "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)["rows"]}
    assert (rows["get_book"]["title"], rows["get_book"]["search_phrases"]) == ("Get a book", 2)
    assert rows["list_books"]["search_phrases"] == 0


def test_plan_warns_over_client_caps(tmp_path: Path) -> None:
    spec = big_spec(tmp_path, 130)
    done = mcpgen("plan", str(spec))
    assert done.returncode == 0, done.stderr
    for client, cap in (("Cursor", 40), ("Windsurf", 50), ("GitHub Copilot", 128)):
        assert (
            f"{spec}: warning[client-cap]: 130 tools exceed {client}'s limit of {cap}; "
            "curate with rules or use `exposure: compact`\n"
        ) in done.stderr
    assert "warning" not in done.stdout, "the table on stdout, diagnostics on stderr"


def test_init_writes_a_valid_starter_that_generates(tmp_path: Path) -> None:
    spec = big_spec(tmp_path, 70)
    starter = tmp_path / "mcpgen.yaml"
    assert mcpgen("init", str(spec), "-o", str(starter)).returncode == 0
    mapping, _ = load_mapping(starter)
    assert mapping.exposure == "compact", "a large API gets compact exposure"
    assert mapping.rules[0].match.deprecated is True and mapping.rules[0].kind == "exclude"
    assert [r.match.tags for r in mapping.rules[1:]] == [["group0"], ["group1"], ["group2"]]
    planned = json.loads(mcpgen("plan", str(spec), "-m", str(starter), "--json").stdout)
    assert (planned["operations"], planned["listed_tools"]) == (69, 3)
    again = mcpgen("init", str(spec), "-o", str(starter))
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr


def test_a_starter_mapping_has_no_rule_that_decides_nothing(tmp_path: Path) -> None:
    untagged = json.loads(big_spec(tmp_path, 3).read_text())
    for item in untagged["paths"].values():
        item["get"].pop("tags")
        item["get"].pop("deprecated")
    spec = tmp_path / "untagged.json"
    spec.write_text(json.dumps(untagged))
    for source in (spec, BOOKSHOP):
        starter = tmp_path / f"{source.stem}.mcpgen.yaml"
        assert mcpgen("init", str(source), "-o", str(starter)).returncode == 0
        planned = mcpgen("plan", str(source), "-m", str(starter), "--json")
        assert planned.returncode == 0, planned.stderr
        assert "rule-unused" not in planned.stderr
        codes = [d["code"] for d in json.loads(planned.stdout)["diagnostics"]]
        assert "rule-unused" not in codes
    mapping, _ = load_mapping(tmp_path / "untagged.mcpgen.yaml")
    assert mapping.rules == []


def test_compact_token_estimate_matches_a_generated_server(tmp_path: Path) -> None:
    spec = big_spec(tmp_path, 3)
    mapping = tmp_path / "mcpgen.yaml"
    mapping.write_text("exposure: compact\n")
    out = tmp_path / "out"
    assert mcpgen("generate", str(spec), "-m", str(mapping), "-o", str(out)).returncode == 0
    probe = (
        "import anyio, json\n"
        "from mcp import Client\n"
        "from big_mcp.server import create_server\n"
        "from big_mcp.runtime.config import Settings\n"
        "async def main():\n"
        "    async with Client(create_server(Settings())) as client:\n"
        "        tools = (await client.list_tools()).tools\n"
        "        dumped = [\n"
        "            t.model_dump(by_alias=True, exclude_none=True, mode='json') for t in tools\n"
        "        ]\n"
        "        print(len(json.dumps(dumped, separators=(',', ':'))))\n"
        "        keys = ('name', 'description', 'inputSchema')\n"
        "        read = [{k: t[k] for k in keys} for t in dumped]\n"
        "        print(sum(len(json.dumps(t, separators=(',', ':'))) for t in read))\n"
        "anyio.run(main)\n"
    )
    env: dict[str, Any] = {"PYTHONPATH": str(out / "src")}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    wire, read = (int(line) for line in done.stdout.split())
    assert abs(wire - META_TOOLS_BYTES) / BYTES_PER_TOKEN < 25, wire
    assert abs(read - META_TOOLS_MODEL_BYTES) / BYTES_PER_TOKEN < 25, read
