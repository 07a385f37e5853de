"""Logging of the server process: one place that decides what is logged, where and how."""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]


class _NoQueryStrings(logging.Filter):
    """Access-log lines without query strings: OAuth redirects carry codes and state in them."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, mark, _ = args[2].partition("?")
            record.args = (*args[:2], path + ("?…" if mark else ""), *args[3:])
        return True


def configure_logging() -> None:
    """Log lines on stderr (stdout belongs to the stdio transport); the access log leaves
    query strings out. Nothing the runtime logs holds a token or a secret."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("uvicorn.access").addFilter(_NoQueryStrings())
