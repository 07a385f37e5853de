"""A secret scan: no token, key or password a test used may appear in what it collected.

Register every secret a suite hands to servers, upstreams and clients, then check every log
line and tool result the suite produced. Each secret is looked for as given and in the forms
it travels in (percent-encoded, base64 alone and as `user:password`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

__all__ = ["SecretScan"]

_MIN_LENGTH = 6  # shorter values would match ordinary text by chance


@dataclass
class SecretScan:
    secrets: set[str] = field(default_factory=set)

    def add(self, *secrets: str) -> None:
        for secret in secrets:
            if len(secret) < _MIN_LENGTH:
                raise ValueError(f"a test secret must be at least {_MIN_LENGTH} characters")
            self.secrets.add(secret)

    def add_basic(self, user: str, password: str) -> None:
        """A user name and password, also in their `Authorization: Basic` form."""
        self.add(password)
        self.secrets.add(base64.b64encode(f"{user}:{password}".encode()).decode())

    def forms(self) -> set[str]:
        found = set()
        for secret in self.secrets:
            found |= {secret, quote(secret, safe=""), base64.b64encode(secret.encode()).decode()}
        return found

    def leaks(self, texts: Iterable[str]) -> list[str]:
        """`where: secret` for every secret form found in `texts`."""
        forms = self.forms()
        return [
            f"text {i}: …{text[max(0, text.find(form) - 40) : text.find(form) + 40]}…"
            for i, text in enumerate(texts)
            for form in forms
            if form in text
        ]

    def check(self, texts: Iterable[str], where: str) -> None:
        """Fail when any secret appears in `texts` (log lines, tool results, error pages)."""
        leaks = self.leaks(texts)
        assert not leaks, f"secrets leaked into {where}:\n" + "\n".join(leaks[:20])
