"""A round-robin HTTP forwarder on 127.0.0.1 for replica tests: each request goes to the next
backend, unchanged (method, path, query, headers, body), and the answer comes back unchanged,
redirects included. Small on purpose; the deploy tests use a real load balancer."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import httpx
from starlette.types import Receive, Scope, Send

from . import net

__all__ = ["round_robin"]


@contextmanager
def round_robin(backends: Sequence[str], *, port: int | None = None) -> Iterator[str]:
    """Serve a forwarder to `backends` (base URLs); yields its own base URL."""
    turn = itertools.cycle(backends)
    client = httpx.AsyncClient(timeout=30, trust_env=False, follow_redirects=False)
    served: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        target = next(turn)
        served.append(target)
        query = scope["query_string"].decode("latin-1")
        url = target + scope["raw_path"].decode("latin-1") + (f"?{query}" if query else "")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        response = await client.request(scope["method"], url, headers=headers, content=bytes(body))
        out = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")
        ]
        out.append((b"content-length", str(len(response.content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await send({"type": "http.response.body", "body": response.content})

    with net.serve_in_thread(app, port=port) as url:
        yield url
