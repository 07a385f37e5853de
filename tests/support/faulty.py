"""An upstream on 127.0.0.1 that misbehaves on purpose, at the level of bytes on the socket.

Starlette cannot break a connection halfway through a body or say how much of a reply the
client really read; this server can. It speaks just enough HTTP/1.1 (one request per
connection) and answers each request with what the test queued for its path:

    upstream.on("/big", Reply(200, body=b"x" * 8_000_000, chunk=65536))
    upstream.on("/cut", Reply(200, body=b'{"a": 1, "b": ', cut=True))    # reset mid-body
    upstream.on("/slow", Reply(200, body=b"{}", delay=2.0))
    upstream.on("/busy", Reply(429, headers={"Retry-After": "1"}), Reply(200, body=b"{}"))

Replies queued for a path are used in turn; the last one is kept for later requests. Every
request is recorded (`requests`), with the bytes of its reply written before the client
went away (`written`). `tls=True` serves HTTPS with a self-signed certificate no client
trusts.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FaultyUpstream", "Reply", "Request", "faulty_upstream"]


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"
    delay: float = 0.0  # seconds before the reply starts
    chunk: int = 0  # write the body in chunks of this size (0: at once)
    cut: bool = False  # declare the whole body, send what is given, then reset the connection
    declared: int | None = None  # Content-Length to announce (default: len(body); -1: none)

    @classmethod
    def json(cls, data: Any, status: int = 200, **kw: Any) -> Reply:
        return cls(status, json.dumps(data).encode(), **kw)


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    written: int = 0  # bytes of the reply's body written before the client closed


class FaultyUpstream:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._replies: dict[str, list[Reply]] = {}
        self.url = ""

    def on(self, path: str, *replies: Reply) -> None:
        self._replies[path] = list(replies)

    def _next(self, path: str) -> Reply:
        queued = self._replies.get(path) or self._replies.get("*") or [Reply(404, b"{}")]
        return queued.pop(0) if len(queued) > 1 else queued[0]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            first = await reader.readexactly(1)
            if first == b"\x16":  # a TLS handshake: answer as a plain HTTP server would
                writer.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                await writer.drain()
                writer.close()
                return
            head = first + await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        body = await reader.readexactly(length) if length else b""
        request = Request(method, target, headers, body)
        self.requests.append(request)
        reply = self._next(target.split("?", 1)[0])
        try:
            await self._send(writer, reply, request)
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _send(self, writer: asyncio.StreamWriter, reply: Reply, request: Request) -> None:
        if reply.delay:
            await asyncio.sleep(reply.delay)
        declared = reply.declared if reply.declared is not None else len(reply.body)
        head = [f"HTTP/1.1 {reply.status} X", "Connection: close"]
        if declared >= 0:
            head.append(f"Content-Length: {declared}")
        if reply.content_type is not None:
            head.append(f"Content-Type: {reply.content_type}")
        head += [f"{k}: {v}" for k, v in reply.headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        step = reply.chunk or max(1, len(reply.body))
        for start in range(0, len(reply.body), step):
            if writer.is_closing():
                return
            writer.write(reply.body[start : start + step])
            await writer.drain()
            request.written = min(start + step, len(reply.body))
        if reply.cut:
            writer.transport.abort()  # RST: the connection breaks mid-body


def _self_signed(directory: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


@contextmanager
def faulty_upstream(*, tls: bool = False, timeout: float = 10.0) -> Iterator[FaultyUpstream]:
    """A FaultyUpstream served from a thread with its own event loop; stopped on exit."""
    upstream = FaultyUpstream()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def start() -> None:
        context = None
        if tls:
            with tempfile.TemporaryDirectory() as scratch:
                context = _self_signed(Path(scratch))
        server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0, ssl=context)
        holder["server"] = server
        port = server.sockets[0].getsockname()[1]
        upstream.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, name="faulty-upstream", daemon=True)
    thread.start()
    if not ready.wait(timeout):
        raise TimeoutError("the faulty upstream did not start")
    try:
        yield upstream
    finally:

        async def stop() -> None:
            holder["server"].close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
            loop.call_soon(loop.stop)

        asyncio.run_coroutine_threadsafe(stop(), loop)
        thread.join(timeout)
        loop.close()
