"""State that outlives a request, shared by every replica that points at the same store.

`MCP_STATE_URL` chooses the store:
- `sqlite:///PATH` (the default, `sqlite:///mcp-state.sqlite3` in the working directory): one
  machine, one file on a persistent disk; several processes on that machine may share it.
- `redis://HOST:PORT/DB` (or `rediss://` for TLS): replicas on several machines share one Redis
  (or Valkey) server. Needs the `redis` package: install the project with its `[redis]` extra.

The interface is small on purpose: byte values under string keys, each with an optional time
to live, plus the two atomic operations the OAuth flows need (`take` for single-use codes,
`put(..., only_new=True)` for locks and first-writer-wins records). Callers encrypt what must
not be readable at rest (see `StateCipher`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import anyio.to_thread

__all__ = [
    "DEFAULT_STATE_URL",
    "MIN_KEY_LENGTH",
    "RedisStore",
    "SqliteStore",
    "StateCipher",
    "StateStore",
    "hashed",
    "open_state",
    "state_keys",
]

DEFAULT_STATE_URL = "sqlite:///mcp-state.sqlite3"
MIN_KEY_LENGTH = 32
_T = TypeVar("_T")


class StateStore(Protocol):
    """Byte values under string keys; `ttl` in seconds (None: kept until deleted)."""

    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""
        ...

    async def put(
        self, key: str, value: bytes, ttl: float | None = None, *, only_new: bool = False
    ) -> bool:
        """Store `value`; with `only_new`, only when no live value exists. True when stored."""
        ...

    async def take(self, key: str) -> bytes | None:
        """Remove and return the value in one atomic step: at most one caller gets it."""
        ...

    async def delete(self, *keys: str) -> None: ...

    async def aclose(self) -> None: ...


class SqliteStore:
    """A SQLite file; calls run in a worker thread, one at a time per process (WAL mode lets
    other processes on the same machine share the file)."""

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS state "
            "(key TEXT PRIMARY KEY, value BLOB NOT NULL, expires REAL)"
        )
        self._writes = 0

    async def _run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        def locked() -> _T:
            with self._lock:
                return work(self._db)

        return await anyio.to_thread.run_sync(locked)

    async def get(self, key: str) -> bytes | None:
        def work(db: sqlite3.Connection) -> bytes | None:
            row = db.execute(
                "SELECT value FROM state WHERE key = ? AND (expires IS NULL OR expires > ?)",
                (key, time.time()),
            ).fetchone()
            return bytes(row[0]) if row else None

        return await self._run(work)

    async def put(
        self, key: str, value: bytes, ttl: float | None = None, *, only_new: bool = False
    ) -> bool:
        now = time.time()
        expires = None if ttl is None else now + ttl

        def work(db: sqlite3.Connection) -> bool:
            self._writes += 1
            if self._writes % 500 == 0:
                db.execute("DELETE FROM state WHERE expires IS NOT NULL AND expires <= ?", (now,))
            if not only_new:
                db.execute(
                    "INSERT OR REPLACE INTO state (key, value, expires) VALUES (?, ?, ?)",
                    (key, value, expires),
                )
                return True
            db.execute("BEGIN IMMEDIATE")
            try:
                live = db.execute(
                    "SELECT 1 FROM state WHERE key = ? AND (expires IS NULL OR expires > ?)",
                    (key, now),
                ).fetchone()
                if live is None:
                    db.execute(
                        "INSERT OR REPLACE INTO state (key, value, expires) VALUES (?, ?, ?)",
                        (key, value, expires),
                    )
            finally:
                db.execute("COMMIT")
            return live is None

        return await self._run(work)

    async def take(self, key: str) -> bytes | None:
        def work(db: sqlite3.Connection) -> bytes | None:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT value, expires FROM state WHERE key = ?", (key,)
                ).fetchone()
                if row is not None:
                    db.execute("DELETE FROM state WHERE key = ?", (key,))
            finally:
                db.execute("COMMIT")
            if row is None or (row[1] is not None and row[1] <= time.time()):
                return None
            return bytes(row[0])

        return await self._run(work)

    async def delete(self, *keys: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.executemany("DELETE FROM state WHERE key = ?", [(k,) for k in keys])

        await self._run(work)

    async def aclose(self) -> None:
        with self._lock:
            self._db.close()


class RedisStore:
    """A Redis (or Valkey) server through `redis.asyncio`; keys live under one prefix."""

    def __init__(self, url: str, prefix: str = "mcp:") -> None:
        try:  # an optional dependency (the [redis] extra), so imported by name
            aioredis = importlib.import_module("redis.asyncio")
        except ImportError:
            raise SystemExit(
                "MCP_STATE_URL names a Redis server, but the `redis` package is not installed: "
                "install this project with its [redis] extra (pip install '.[redis]')"
            ) from None
        self.prefix = prefix
        self._client: Any = aioredis.from_url(url)

    async def get(self, key: str) -> bytes | None:
        value = await self._client.get(self.prefix + key)
        return bytes(value) if value is not None else None

    async def put(
        self, key: str, value: bytes, ttl: float | None = None, *, only_new: bool = False
    ) -> bool:
        px = None if ttl is None else max(1, int(ttl * 1000))
        stored = await self._client.set(self.prefix + key, value, px=px, nx=only_new)
        return bool(stored)

    async def take(self, key: str) -> bytes | None:
        value = await self._client.getdel(self.prefix + key)  # Redis 6.2+, Valkey
        return bytes(value) if value is not None else None

    async def delete(self, *keys: str) -> None:
        if keys:
            await self._client.delete(*(self.prefix + k for k in keys))

    async def aclose(self) -> None:
        await self._client.aclose()


def open_state(url: str) -> StateStore:
    """The store `url` names (`MCP_STATE_URL`); a bad URL stops the server naming the
    variable."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
            raise SystemExit(
                f"MCP_STATE_URL must look like sqlite:///relative/path.sqlite3 or "
                f"sqlite:////absolute/path.sqlite3, not {url!r}"
            )
        return SqliteStore(parts.path[1:])
    if parts.scheme in ("redis", "rediss", "unix"):
        return RedisStore(url)
    raise SystemExit(f"MCP_STATE_URL must start with sqlite:/// or redis://, not {url!r}")


def state_keys(raw: str) -> tuple[bytes, ...]:
    """`MCP_STATE_KEY`: one secret, or several comma separated (the first encrypts and signs;
    the others are still accepted, so keys can be rotated without logging everyone out)."""
    keys = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not keys:
        raise SystemExit(
            "MCP_STATE_KEY must be set: a random secret of at least "
            f"{MIN_KEY_LENGTH} characters, the same on every replica "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    for key in keys:
        if len(key) < MIN_KEY_LENGTH:
            raise SystemExit(
                f"MCP_STATE_KEY must be at least {MIN_KEY_LENGTH} characters long "
                "(each, when several are given)"
            )
    return tuple(key.encode() for key in keys)


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, b"mcpgen state key: " + purpose.encode(), hashlib.sha256).digest()


class StateCipher:
    """Encrypts values at rest (AES-256-GCM) and signs short strings (HMAC-SHA256), with keys
    derived from `MCP_STATE_KEY`. Decryption and verification accept every configured key."""

    def __init__(self, secrets: Sequence[bytes]) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not secrets:
            raise ValueError("StateCipher needs at least one key")
        self._aead = [AESGCM(_derive(s, "encrypt")) for s in secrets]
        self._sign = [_derive(s, "sign") for s in secrets]

    @property
    def signing_key(self) -> bytes:
        return self._sign[0]

    @property
    def verification_keys(self) -> tuple[bytes, ...]:
        return tuple(self._sign)

    def encrypt(self, plain: bytes, context: str) -> bytes:
        """`context` (e.g. the record's key) is authenticated too: a value copied under
        another key does not decrypt."""
        nonce = os.urandom(12)
        return nonce + self._aead[0].encrypt(nonce, plain, context.encode())

    def decrypt(self, blob: bytes, context: str) -> bytes | None:
        """The plain value, or None when no key opens it (tampered, or another key)."""
        from cryptography.exceptions import InvalidTag

        nonce, sealed = blob[:12], blob[12:]
        for aead in self._aead:
            try:
                return aead.decrypt(nonce, sealed, context.encode())
            except InvalidTag:
                continue
        return None

    def mac(self, text: str) -> str:
        digest = hmac.new(self._sign[0], text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def mac_ok(self, text: str, given: str) -> bool:
        for key in self._sign:
            digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if hmac.compare_digest(expected.encode(), given.encode()):
                return True
        return False


def hashed(token: str) -> str:
    """The key a token is stored under: its SHA-256, so the store never holds the token."""
    return hashlib.sha256(token.encode()).hexdigest()
