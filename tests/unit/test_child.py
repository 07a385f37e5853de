"""Work in a second process (mcpgen.child): validation and model generation use it."""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path

import pytest

from mcpgen.child import ChildJob
from mcpgen.errors import McpgenError

PARENT = os.getpid()


def where() -> int:
    return os.getpid()


def dies_in_the_child() -> str:
    if os.getpid() != PARENT:
        os._exit(3)  # the child ends without answering
    return "done here"


def fails(log: Path) -> str:
    with log.open("a") as handle:
        handle.write("ran\n")
    raise ValueError("what the work raised")


class UnpicklableError(Exception):
    """Pickles, but unpickling calls __init__ with the message alone, which fails."""

    def __init__(self, what: str, where: str) -> None:
        super().__init__(f"{what} in {where}")


def fails_oddly(log: Path) -> str:
    with log.open("a") as handle:
        handle.write("ran\n")
    raise UnpicklableError("an odd failure", "the work")


def fails_located() -> str:
    raise McpgenError.single("bad", "located failure", file="api.yaml", pointer="/paths", line=3)


def answers_with_a_function() -> object:
    return lambda: "not picklable"


def hangs_in_the_child() -> str:
    if os.getpid() != PARENT:
        time.sleep(60)
    return "done here"


def sleeps() -> str:
    time.sleep(60)
    return "late"


def test_the_work_runs_in_another_process_and_its_result_comes_back() -> None:
    assert ChildJob(where).result() not in (PARENT, None)


def test_a_child_that_dies_leaves_the_work_to_this_process() -> None:
    assert ChildJob(dies_in_the_child).result() == "done here"


def test_what_the_work_raises_is_raised_here(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "runs.log"
    with pytest.raises(ValueError, match="what the work raised"):
        ChildJob(partial(fails, log)).result()
    assert log.read_text() == "ran\n"  # once, in the child
    assert capfd.readouterr() == ("", "")  # the child printed no traceback


def test_a_located_error_comes_back_with_its_diagnostics(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(McpgenError) as caught:
        ChildJob(fails_located).result()
    assert [(d.code, d.file, d.pointer, d.line) for d in caught.value.diagnostics] == [
        ("bad", "api.yaml", "/paths", 3)
    ]
    assert capfd.readouterr() == ("", "")


def test_an_exception_that_cannot_cross_is_raised_by_working_here(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "runs.log"
    with pytest.raises(UnpicklableError, match="an odd failure in the work"):
        ChildJob(partial(fails_oddly, log)).result()
    assert log.read_text() == "ran\nran\n"  # in the child, then here to raise it
    assert capfd.readouterr() == ("", "")


def test_a_result_that_cannot_cross_is_made_here(capfd: pytest.CaptureFixture[str]) -> None:
    made = ChildJob(answers_with_a_function).result()
    assert callable(made)
    assert made() == "not picklable"
    assert capfd.readouterr() == ("", "")


def test_a_child_that_does_not_answer_in_time_is_stopped_and_the_work_done_here() -> None:
    job = ChildJob(hangs_in_the_child, patience=0.5)
    started = time.monotonic()
    assert job.result() == "done here"
    assert time.monotonic() - started < 10


def test_close_stops_work_no_longer_wanted() -> None:
    job = ChildJob(sleeps)
    started = time.monotonic()
    job.close()
    assert time.monotonic() - started < 10
    job.close()  # twice is harmless
