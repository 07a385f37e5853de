from __future__ import annotations

import io

from mcpgen.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    piped = io.StringIO()
    Progress(piped).step("loading")
    assert piped.getvalue() == ""
    terminal = Terminal()
    Progress(terminal).step("loading spec.yaml")
    assert terminal.getvalue().startswith("mcpgen [") and "loading spec.yaml" in terminal.getvalue()
