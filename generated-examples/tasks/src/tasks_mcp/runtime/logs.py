"""Logging of the server process: one place that decides what is logged, where and how."""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]

# INFO lines that say nothing useful, or too much: httpx logs every request's full URL (with
# a credential when the API takes it in the query), and the MCP SDK logs "Terminating
# session: None" for every request of a stateless server.
_QUIET = ("httpx", "httpcore", "mcp.server.streamable_http")


def configure_logging() -> None:
    """Log lines on stderr (stdout belongs to the stdio transport). Known credentials are
    redacted from every record (see redaction.py; the server installs it)."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
