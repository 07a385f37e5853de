"""Work in a second process (mcpgen.child): validation and model generation use it."""

from __future__ import annotations

import os
import time

import pytest

from mcpgen.child import ChildJob

PARENT = os.getpid()


def where() -> int:
    return os.getpid()


def dies_in_the_child() -> str:
    if os.getpid() != PARENT:
        os._exit(3)  # the child ends without answering
    return "done here"


def fails() -> str:
    raise ValueError("what the work raised")


def sleeps() -> str:
    time.sleep(60)
    return "late"


def test_the_work_runs_in_another_process_and_its_result_comes_back() -> None:
    assert ChildJob(where).result() not in (PARENT, None)


def test_a_child_that_dies_leaves_the_work_to_this_process() -> None:
    assert ChildJob(dies_in_the_child).result() == "done here"


def test_what_the_work_raises_is_raised_here() -> None:
    with pytest.raises(ValueError, match="what the work raised"):
        ChildJob(fails).result()


def test_close_stops_work_no_longer_wanted() -> None:
    job = ChildJob(sleeps)
    started = time.monotonic()
    job.close()
    assert time.monotonic() - started < 10
    job.close()  # twice is harmless
