"""Loopback networking for tests: free ports and ASGI apps served from a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

__all__ = ["HOST", "free_port", "serve_in_thread", "wait_for_port"]

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, *, timeout: float = 10.0) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError as exc:
            if time.monotonic() > deadline:
                message = f"nothing accepted connections on {HOST}:{port} in {timeout} s"
                raise TimeoutError(message) from exc
            time.sleep(0.02)


@contextmanager
def serve_in_thread(
    app: ASGIApp | None = None,
    *,
    timeout: float = 10.0,
    factory: Callable[[str], ASGIApp] | None = None,
    port: int | None = None,
    tls: tuple[Path, Path] | None = None,
) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1 in a daemon thread; yield its base URL.

    `tls` (a certificate file and its key) serves HTTPS (`tls.serve_https` issues them).

    With `factory` instead of `app`, the app is built from the base URL first (for servers
    that must know their own URL, such as an OAuth resource server). `port` asks for a
    given port (one `free_port()` reserved earlier), else the OS picks one.

    The socket is bound before the thread starts, so the port cannot be taken by
    someone else in between. On exit the server is asked to stop (`should_exit`),
    then forced (`force_exit`) if it has not stopped within `timeout` seconds.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port or 0))
    port = int(sock.getsockname()[1])
    base = f"{'https' if tls else 'http'}://{HOST}:{port}"
    try:
        if factory is not None:
            app = factory(base)
        if app is None:
            raise TypeError("serve_in_thread needs an app or a factory")
    except BaseException:
        sock.close()
        raise
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="auto",
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True
    )
    thread.start()
    try:
        _wait_started(server, thread, timeout)
        wait_for_port(port, timeout=timeout)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        sock.close()


def _wait_started(server: uvicorn.Server, thread: threading.Thread, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn stopped during start-up; see the log above")
        if time.monotonic() > deadline:
            raise TimeoutError(f"uvicorn did not start within {timeout} s")
        time.sleep(0.01)
