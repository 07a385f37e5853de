"""The state store (mcpgen.runtime.state) on SQLite and on a real Valkey server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest

from mcpgen.runtime.state import StateCipher, StateStore, open_state, state_keys
from tests.support.redis import redis_server

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def valkey() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StateStore]:
    if request.param == "sqlite":
        opened = open_state(f"sqlite:///{tmp_path}/state.sqlite3")
    else:
        opened = open_state(request.getfixturevalue("valkey"))
        await opened.delete("k", "once", "gone")
    try:
        yield opened
    finally:
        await opened.aclose()


async def test_values_ttls_and_the_atomic_operations(store: StateStore) -> None:
    assert await store.get("k") is None
    assert await store.put("k", b"v1")
    assert await store.get("k") == b"v1"
    assert not await store.put("k", b"v2", only_new=True)  # a live value wins
    assert await store.get("k") == b"v1"
    assert await store.put("once", b"code", 10)
    results = []

    async def take() -> None:
        results.append(await store.take("once"))

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(take)
    assert sorted(results, key=lambda r: r is None) == [b"code", None, None, None, None]
    assert await store.put("gone", b"x", 0.3)
    await anyio.sleep(0.6)
    assert await store.get("gone") is None
    assert await store.take("gone") is None
    assert await store.put("gone", b"y", only_new=True)  # expired values do not block
    await store.delete("k", "gone")
    assert await store.get("k") is None and await store.get("gone") is None


async def test_two_handles_on_one_sqlite_file_share_state(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.sqlite3"
    first, second = open_state(url), open_state(url)
    await first.put("grant", b"g", 60)
    assert await second.take("grant") == b"g"
    assert await first.get("grant") is None
    await first.aclose()
    await second.aclose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgres://x", "MCP_STATE_URL must start with sqlite:/// or redis://"),
        ("sqlite://relative", "MCP_STATE_URL must look like"),
        ("sqlite:///", "MCP_STATE_URL must look like"),
    ],
)
def test_bad_state_urls_name_the_variable(url: str, message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        open_state(url)


def test_state_keys_are_required_long_and_rotatable() -> None:
    with pytest.raises(SystemExit, match="MCP_STATE_KEY must be set"):
        state_keys("")
    with pytest.raises(SystemExit, match="at least 32 characters"):
        state_keys("short")
    old, new = "o" * 40, "n" * 40
    sealed = StateCipher(state_keys(old)).encrypt(b"upstream token", "grant:1")
    rotated = StateCipher(state_keys(f"{new},{old}"))
    assert rotated.decrypt(sealed, "grant:1") == b"upstream token"  # old data still opens
    assert rotated.decrypt(sealed, "grant:2") is None  # bound to its key in the store
    assert StateCipher(state_keys(new)).decrypt(sealed, "grant:1") is None
    assert b"upstream token" not in sealed
    mac = StateCipher(state_keys(old)).mac("consent:x")
    assert rotated.mac_ok("consent:x", mac) and not rotated.mac_ok("consent:y", mac)
