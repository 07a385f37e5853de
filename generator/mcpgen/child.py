"""Work done in a second process while the run goes on.

Validation and model generation are slow and need nothing the rest of a run makes, so they
run in a forked process (a daemon: it never outlives a run that stops early) and the run
asks for their result when it needs it. Where fork is not available, or the second process
died, the work is done in this process when the result is asked for, which also raises
whatever the work raised.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Generic, TypeVar, cast

__all__ = ["ChildJob"]

T = TypeVar("T")


class ChildJob(Generic[T]):
    """`work()`, started in a second process at once; `result()` waits for it."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._process: BaseProcess | None = None
        self._receiver: Connection | None = None
        if "fork" in mp.get_all_start_methods():
            context = mp.get_context("fork")
            self._receiver, sender = context.Pipe(duplex=False)
            self._process = context.Process(target=_send, args=(sender, work), daemon=True)
            self._process.start()
            sender.close()

    def result(self) -> T:
        """The work's result (pickled across): here, when there is no second process or it
        died before answering."""
        if self._process is None or self._receiver is None:
            return self._work()
        try:
            return cast(T, self._receiver.recv())
        except EOFError:  # the child died: working here raises what it raised
            return self._work()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the second process, if it still runs: its result is no longer wanted."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._process = None
        if self._receiver is not None:
            self._receiver.close()
            self._receiver = None


def _send(sender: Connection, work: Callable[[], object]) -> None:
    sender.send(work())
    sender.close()
