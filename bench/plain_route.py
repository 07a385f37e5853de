"""The floor under a tools/list answer: a plain ASGI route sending the same bytes.

`POST /mcp` answers with the bytes of FILE as `application/json`, whatever the request,
served by uvicorn on 127.0.0.1 at the log level of a generated server; everything MCP does
beyond sending those bytes is what the bench's ratio against it measures::

    .venv/bin/python bench/plain_route.py --port 8082 --body answer.json
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["create_app", "main"]


def create_app(body: bytes) -> ASGIApp:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body", False):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A route answering with fixed bytes.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True, help="the file to answer with")
    args = parser.parse_args(argv)
    app = create_app(args.body.read_bytes())
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="info", lifespan="off")


if __name__ == "__main__":
    main()
