"""Subprocesses for tests: own session, bounded waits, the whole group killed on exit."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest

__all__ = ["RunningProcess", "build_env", "run_bounded", "start_process", "wait_http"]

_live_groups: set[int] = set()


def build_env(env: Mapping[str, str | None] | None) -> dict[str, str]:
    """A copy of `os.environ` updated with `env`; a value of None removes that variable."""
    merged = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


@dataclass
class RunningProcess:
    """A started process; its stdout and stderr go to anonymous files readable at any time."""

    argv: tuple[str, ...]
    popen: subprocess.Popen[bytes]
    _out: IO[bytes]
    _err: IO[bytes]

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stdout(self) -> str:
        return _read_all(self._out)

    def stderr(self) -> str:
        return _read_all(self._err)

    def describe(self) -> str:
        """Exit status plus captured output, for failure messages."""
        status = self.popen.poll()
        state = "still running" if status is None else f"exited with {status}"
        return (
            f"{' '.join(self.argv)}\n{state}\n"
            f"--- stderr ---\n{self.stderr()[-8000:]}\n--- stdout ---\n{self.stdout()[-4000:]}"
        )


@contextmanager
def start_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
    ready_url: str | None = None,
    ready_status: int = 200,
    ready_timeout: float = 30.0,
    stop_timeout: float = 5.0,
) -> Iterator[RunningProcess]:
    """Start `argv` in a new session; optionally wait until GET `ready_url` answers.

    Ready means the answer has status `ready_status` (e.g. 401 for an API that
    wants credentials everywhere).

    If the process exits before it is ready, or is not ready within `ready_timeout`
    seconds, the test fails with the process's captured stderr. On exit the whole
    process group gets SIGTERM, then SIGKILL after `stop_timeout` seconds, and any
    survivors in the group get SIGKILL too: nothing outlives the block.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        popen = subprocess.Popen(
            list(argv),
            env=build_env(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        _live_groups.add(popen.pid)
        proc = RunningProcess(tuple(argv), popen, out, err)
        try:
            if ready_url is not None:
                wait_http(ready_url, status=ready_status, timeout=ready_timeout, proc=proc)
            yield proc
        finally:
            stop_group(popen, stop_timeout)


def wait_http(
    url: str, *, status: int = 200, timeout: float = 30.0, proc: RunningProcess | None = None
) -> None:
    """Poll `url` with GET until it answers `status`; fail the test after `timeout` seconds.

    With `proc`, fail at once (with its stderr) if that process exits first.
    """
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        if proc is not None and proc.popen.poll() is not None:
            pytest.fail(f"process exited before {url} answered\n{proc.describe()}", pytrace=False)
        try:
            response = httpx.get(url, timeout=1.0, trust_env=False)  # no proxies
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == status:
                return
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        if time.monotonic() > deadline:
            detail = proc.describe() if proc is not None else ""
            message = f"{url} did not answer {status} within {timeout} s ({last})\n{detail}"
            pytest.fail(message, pytrace=False)
        time.sleep(0.05)


def run_bounded(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `argv` to completion in a new session; fail the test if it takes over `timeout` s.

    Output is captured as text. On timeout the whole process group is killed and the
    failure message carries what the process had written so far.
    """
    popen = subprocess.Popen(
        list(argv),
        env=build_env(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    _live_groups.add(popen.pid)
    try:
        stdout, stderr = popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(popen.pid)
        stdout, stderr = popen.communicate(timeout=5)
        pytest.fail(
            f"{' '.join(argv)} did not finish within {timeout} s\n"
            f"--- stderr ---\n{stderr[-8000:]}\n--- stdout ---\n{stdout[-4000:]}",
            pytrace=False,
        )
    finally:
        stop_group(popen, 5.0)
    return subprocess.CompletedProcess(list(argv), popen.returncode, stdout, stderr)


def _read_all(file: IO[bytes]) -> str:
    # pread leaves the offset the child shares with us untouched.
    fd = file.fileno()
    return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")


def track(popen: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """Kill the process group of `popen` (started with `start_new_session=True`) at exit if
    it is still there then."""
    _live_groups.add(popen.pid)


def stop_group(popen: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float) -> None:
    """Stop the process group of `popen`: SIGTERM, `timeout` seconds, then SIGKILL."""
    if popen.poll() is None:
        _signal_group(popen.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            popen.wait(timeout)
    _kill_group(popen.pid)
    popen.wait(timeout)


def _kill_group(pgid: int) -> None:
    _signal_group(pgid, signal.SIGKILL)
    _live_groups.discard(pgid)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):  # the group is already gone
        os.killpg(pgid, sig)


@atexit.register
def _kill_leftovers() -> None:
    for pgid in list(_live_groups):
        _kill_group(pgid)
