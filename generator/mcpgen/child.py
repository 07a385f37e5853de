"""Work done in a second process while the run goes on.

Validation and model generation are slow and need nothing the rest of a run makes, so they
run in a forked process (a daemon: it never outlives a run that stops early) and the run
asks for their result when it needs it.

The child never dies of what the work raises: its entry point (its outermost layer, like the
CLI's) catches it and sends it across, and `result()` raises it here, so the work runs once
and the child prints nothing. An answer that cannot cross (a result that does not pickle, an
exception that does not come back whole) is sent as a marker instead, and the work is done
again here, which returns that result or raises that exception. The work is also done here
where fork is not available, when the second process died without answering, or when it has
not answered within `PATIENCE` seconds (it is stopped first).
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Generic, Literal, TypeVar, cast

__all__ = ["PATIENCE", "ChildJob"]

T = TypeVar("T")

PATIENCE = 900.0  # seconds: a generous bound on a child that hangs, not an expected duration

_Answer = tuple[Literal["returned", "raised", "here"], object]


class ChildJob(Generic[T]):
    """`work()`, started in a second process at once; `result()` waits for it."""

    def __init__(self, work: Callable[[], T], *, patience: float = PATIENCE) -> None:
        self._work = work
        self._patience = patience
        self._process: BaseProcess | None = None
        self._receiver: Connection | None = None
        if "fork" in mp.get_all_start_methods():
            context = mp.get_context("fork")
            self._receiver, sender = context.Pipe(duplex=False)
            self._process = context.Process(target=_send, args=(sender, work), daemon=True)
            self._process.start()
            sender.close()

    def result(self) -> T:
        """The work's result (pickled across), or what it raised, raised here; the work is
        done here when the second process cannot answer (see the module's notes)."""
        if self._process is None or self._receiver is None:
            return self._work()
        answer: _Answer | None = None
        try:
            if self._receiver.poll(self._patience):
                answer = cast(_Answer, self._receiver.recv())
        except EOFError:  # the child died without answering
            pass
        finally:
            self.close()
        if answer is None or answer[0] == "here":
            return self._work()
        kind, value = answer
        if kind == "raised":
            assert isinstance(value, BaseException)
            raise value
        return cast(T, value)

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
    """The child's entry point: one answer, whatever the work does."""
    answer: _Answer
    try:
        answer = ("returned", work())
    except Exception as exc:  # the child's outermost layer: the parent raises it
        answer = ("raised", exc) if _comes_back_whole(exc) else ("here", None)
    try:
        data = pickle.dumps(answer)
    except Exception:  # the child's outermost layer: a result that does not pickle
        data = pickle.dumps(("here", None))
    sender.send_bytes(data)
    sender.close()


def _comes_back_whole(exc: Exception) -> bool:
    """Whether `exc` unpickles as an equal exception (same type, arguments and attributes):
    many exception classes pickle but come back broken."""
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except Exception:  # the child's outermost layer: whatever unpickling raises
        return False
    return type(copy) is type(exc) and copy.args == exc.args and vars(copy) == vars(exc)
