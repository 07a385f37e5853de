"""Known credentials never leave the server: every text a client or the log gets is redacted.

An upstream that echoes its key back (in an error message, a reply body, a redirect target)
would otherwise hand it to every agent; an exception raised while a request was built may
hold a header value. The `Redactor` knows each configured credential and the forms it
travels in (as given, percent-encoded, base64, and `user:password` in base64 for HTTP Basic),
and replaces them with `[redacted]`. Credentials the server obtains for itself while it runs
(client-credentials tokens: a few) are added as they arrive (`Redactor.add`); the `MAX_LEARNED`
most recently used of them are kept, besides every configured one.

A user's own upstream tokens (oauth-proxy mode) are not added to that set, whose cost would grow
with the number of users: they are masked within the task that uses them (`mask_in_call`, a
context variable), in the tool result and in every log line of that call.
"""

from __future__ import annotations

import base64
import json
import logging
import traceback
from collections.abc import Iterable, Mapping
from contextvars import ContextVar, Token
from typing import Any
from urllib.parse import quote, quote_plus

from mcp.types import CallToolResult, TextContent

__all__ = [
    "MASK",
    "MAX_LEARNED",
    "Redactor",
    "call_scope",
    "end_call",
    "mask_in_call",
    "redact_logs",
]

MASK = "[redacted]"
MAX_LEARNED = 512  # credentials obtained at runtime that are kept (the least recently used go)
_MIN_LENGTH = 4  # shorter values would mask ordinary text; credentials are never that short


def _forms(secret: str) -> set[str]:
    """The forms a secret travels in: as given, percent-encoded, base64, inside JSON text."""
    return {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        base64.b64encode(secret.encode()).decode(),
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }


def _ordered(forms: Iterable[str]) -> tuple[str, ...]:
    # Longest first, so that a secret holding another is masked whole.
    return tuple(sorted(set(forms), key=lambda form: (-len(form), form)))


# The forms of the credentials the current task uses besides the server's own (a user's
# upstream tokens), masked in what that task returns and logs. A task starts with its parent's
# value; `mask_in_call` only ever widens it for the current task.
_in_call: ContextVar[tuple[str, ...]] = ContextVar("mcpgen_redacted_in_call", default=())


def mask_in_call(*secrets: str | None) -> None:
    """Mask `secrets` (in every form they travel in) in the results and log lines of the
    current task, from now on: the credentials one call uses on behalf of its user."""
    known = _in_call.get()
    new = {
        form
        for secret in secrets
        if secret is not None and len(secret) >= _MIN_LENGTH
        for form in _forms(secret)
    }
    if not new.issubset(known):
        _in_call.set(_ordered(new.union(known)))


def call_scope() -> Token[tuple[str, ...]]:
    """Start a call with nothing masked besides the server's own credentials; give the
    returned token to `end_call` when the call is over."""
    return _in_call.set(())


def end_call(token: Token[tuple[str, ...]]) -> None:
    _in_call.reset(token)


class Redactor:
    """Replaces every known credential, in every form it travels in, with `MASK`."""

    def __init__(self, secrets: Iterable[str] = (), pairs: Iterable[tuple[str, str]] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if len(secret) >= _MIN_LENGTH:
                forms |= _forms(secret)
        for user, password in pairs:
            if len(password) >= _MIN_LENGTH:
                forms.add(base64.b64encode(f"{user}:{password}".encode()).decode())
        self._configured = frozenset(forms)
        self._learned: dict[str, frozenset[str]] = {}  # least recently used first
        self.forms = _ordered(forms)
        # The last merge of `forms` with a call's forms (both tuples, compared by identity).
        self._merged: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None = None

    def add(self, secret: str) -> None:
        """Mask `secret` from now on (a credential obtained at runtime, such as an OAuth
        token), in every form it travels in. Known secrets cost a lookup (and become the most
        recently used); only the `MAX_LEARNED` most recently used are kept."""
        if len(secret) < _MIN_LENGTH:
            return
        known = self._learned.pop(secret, None)
        if known is not None:  # used again: now the most recent, forms unchanged
            self._learned[secret] = known
            return
        self._learned[secret] = frozenset(_forms(secret))
        while len(self._learned) > MAX_LEARNED:
            del self._learned[next(iter(self._learned))]
        forms = set(self._configured).union(*self._learned.values())
        self.forms = _ordered(forms)  # one assignment: readers see the old or the new tuple

    @classmethod
    def of(cls, credentials: Mapping[str, str], basic: Iterable[tuple[str, str]] = ()) -> Redactor:
        """From the configured credentials; `basic` names (user, password) variable pairs."""
        pairs = [
            (credentials[user], credentials[password])
            for user, password in basic
            if user in credentials and password in credentials
        ]
        return cls(credentials.values(), pairs)

    def __bool__(self) -> bool:
        return bool(self.forms or _in_call.get())

    def _all_forms(self) -> tuple[str, ...]:
        """The server's forms plus those of the current call, longest first."""
        extra = _in_call.get()
        if not extra:
            return self.forms
        forms = self.forms
        merged = self._merged
        if merged is not None and merged[0] is forms and merged[1] is extra:
            return merged[2]
        ordered = _ordered((*forms, *extra))
        self._merged = (forms, extra, ordered)  # one assignment: readers see a whole triple
        return ordered

    def text(self, text: str) -> str:
        for form in self._all_forms():
            if form in text:
                text = text.replace(form, MASK)
        return text

    def value(self, value: Any) -> Any:
        """JSON data with every string redacted (only walked when a secret is in it)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        return value

    def result(self, result: CallToolResult) -> CallToolResult:
        """The result with every text block and the structured content redacted (the
        structure is walked only when its JSON text holds a secret)."""
        forms = self._all_forms()
        if not forms:
            return result
        content = [
            block.model_copy(update={"text": self.text(block.text)})
            if isinstance(block, TextContent)
            else block
            for block in result.content
        ]
        structured = result.structured_content
        if structured is not None:
            text = json.dumps(structured, ensure_ascii=False)
            if any(form in text for form in forms):
                structured = self.value(structured)
        return result.model_copy(update={"content": content, "structured_content": structured})


_installed: list[Redactor] = []


def redact_logs(redactor: Redactor) -> None:
    """Redact every log record of this process from now on, whatever logger or handler it
    goes through: the message and each of its arguments (kept in their places, for
    formatters that read them) as the record is made, and an exception's traceback, which
    formatters then use as recorded."""
    if _installed:
        _installed[0] = redactor
        return
    _installed.append(redactor)
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        current = _installed[0]
        if current:
            _redact_record(record, current)
        return record

    logging.setLogRecordFactory(factory)


def _redact_record(record: logging.LogRecord, redactor: Redactor) -> None:
    if isinstance(record.msg, str):
        record.msg = redactor.text(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_arg(arg, redactor) for arg in record.args)
    elif isinstance(record.args, Mapping):
        record.args = {k: _redact_arg(v, redactor) for k, v in record.args.items()}
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        lines = traceback.format_exception(*record.exc_info)
        record.exc_text = redactor.text("".join(lines).rstrip("\n"))
    if record.stack_info:
        record.stack_info = redactor.text(record.stack_info)


def _redact_arg(arg: Any, redactor: Redactor) -> Any:
    """An argument as it was, unless its text holds a secret (then that text, redacted)."""
    if arg is None or isinstance(arg, bool | int | float):
        return arg
    text = str(arg)
    redacted = redactor.text(text)
    return arg if redacted == text else redacted
