"""An MCP server over stdio that lists tools read from a JSON file, and does nothing else.

    python tests/support/replay_server.py TOOLS.json

It lets one run of a client that inspects tools/list (the MCP Inspector's schema lint) read
the tools of many generated servers at once: the tools are exactly what those servers listed,
collected by the corpus run that started each of them. It speaks newline-delimited JSON-RPC:
`initialize` (echoing a known protocol version), `ping` and `tools/list` are answered,
notifications are read and ignored, any other request gets "method not found". tools/list
is paginated (`nextCursor`) into pages under `PAGE_BYTES`: a client's stdio reader refuses
longer messages (the TypeScript SDK's limit is 10 MiB).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SERVER = {"name": "mcpgen-replay", "version": "1"}
FALLBACK_VERSION = "2025-11-25"
PAGE_BYTES = 4_000_000


def _pages(tools: list[Any]) -> list[list[Any]]:
    pages: list[list[Any]] = [[]]
    size = 0
    for tool in tools:
        length = len(json.dumps(tool, ensure_ascii=False).encode())
        if pages[-1] and size + length > PAGE_BYTES:
            pages.append([])
            size = 0
        pages[-1].append(tool)
        size += length
    return pages


def _answer(message: dict[str, Any], pages: list[list[Any]]) -> dict[str, Any] | None:
    if "id" not in message:
        return None  # a notification
    method = message.get("method")
    if method == "initialize":
        asked = (message.get("params") or {}).get("protocolVersion")
        result: dict[str, Any] = {
            "protocolVersion": asked if isinstance(asked, str) else FALLBACK_VERSION,
            "capabilities": {"tools": {}},
            "serverInfo": SERVER,
        }
    elif method == "ping":
        result = {}
    elif method == "tools/list":
        cursor = (message.get("params") or {}).get("cursor")
        index = int(cursor) if isinstance(cursor, str) and cursor.isdigit() else 0
        result = {"tools": pages[index] if index < len(pages) else []}
        if index + 1 < len(pages):
            result["nextCursor"] = str(index + 1)
    else:
        error = {"code": -32601, "message": f"method not found: {method}"}
        return {"jsonrpc": "2.0", "id": message["id"], "error": error}
    return {"jsonrpc": "2.0", "id": message["id"], "result": result}


def main() -> None:
    pages = _pages(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
    for line in sys.stdin:
        if not line.strip():
            continue
        answer = _answer(json.loads(line), pages)
        if answer is not None:
            sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
