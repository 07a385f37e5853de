"""Logging of the server process: one place that decides what is logged, where and how.

Every line goes to stderr (stdout belongs to the stdio transport) as one JSON object:
`{"time": ..., "level": ..., "logger": ..., "message": ..., ...fields}`. The request and
upstream-call lines of `observability` carry their fields at the top level, so log
pipelines can filter on `event`, `tool`, `status` or `request_id` without parsing text.
`MCP_LOG_FORMAT=text` gives plain lines for reading in a terminal; `MCP_LOG_LEVEL` sets the
level (default INFO).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["JsonFormatter", "configure_logging", "log_event"]

EVENTS = logging.getLogger("mcp.server.events")  # the request and upstream-call lines

# Attributes every LogRecord has; anything else was passed in `extra` and is a field.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime"}
)

# INFO lines that say nothing useful, or too much: httpx logs every request's full URL (with
# a credential when the API takes it in the query), the MCP SDK logs "Terminating session:
# None" for every request of a stateless server, and uvicorn's access lines repeat what the
# request lines say (with query strings, where OAuth redirects carry codes).
_QUIET = ("httpx", "httpcore", "uvicorn.access", "mcp")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; fields given as `extra=` land at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_text:  # made (and redacted, see redaction.py) as the record was
            line["exception"] = record.exc_text
        elif record.exc_info and record.exc_info[0] is not None:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str, separators=(",", ":"))


def configure_logging(env: Mapping[str, str] | None = None) -> None:
    """JSON lines on stderr at MCP_LOG_LEVEL (INFO), replacing any handler set before
    (stdout belongs to the stdio transport). Known credentials are redacted from every record
    (see redaction.py; the server installs it)."""
    env = os.environ if env is None else env
    level_name = (env.get("MCP_LOG_LEVEL") or "INFO").strip().upper()
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        raise SystemExit(f"MCP_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level_name!r}")
    text = (env.get("MCP_LOG_FORMAT") or "json").strip().lower() == "text"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(levelname)s %(name)s: %(message)s") if text else JsonFormatter()
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    EVENTS.setLevel(level)


def log_event(message: str, fields: Mapping[str, Any], *, level: int = logging.INFO) -> None:
    """One request or upstream-call line; `fields` become top-level JSON keys."""
    if EVENTS.isEnabledFor(level):
        EVENTS.log(level, message, extra=dict(fields))
