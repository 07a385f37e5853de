"""Logging of the server process: one place that decides what is logged, where and how."""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging"]


def configure_logging() -> None:
    """Log lines on stderr (stdout belongs to the stdio transport)."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
