"""Two replicas of a generated server behind a real load balancer (Caddy, round_robin, active
health checks on /healthz), all on 127.0.0.1: a client's calls spread over both with no
errors in both protocol eras; a replica killed mid-run costs no call that was not in flight,
and the health checks take it out (and bring it back when it returns).

Only the Streamable HTTP endpoint is balanced here: the legacy HTTP+SSE transport
(`--transport sse`) keeps each session in one process's memory, so it needs sticky routing
instead (the generated README says so)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from specs.bookshop import upstream as bookshop
from tests.runtime.test_observability import sample
from tests.support import mcpclient, net, project
from tests.support.cluster import Cluster, cluster

ROOT = Path(__file__).resolve().parents[2]
ERAS = ("legacy", "2026-07-28")


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    work = tmp_path_factory.mktemp("scale")
    source = work / "bookshop"
    shutil.copytree(ROOT / "generated-examples" / "bookshop", source)
    site = project.pip_install(source, work / "site")
    app, _ = bookshop.create_app()
    with net.serve_in_thread(app) as upstream:
        env = {
            "PYTHONPATH": str(site),
            "UPSTREAM_BASE_URL": f"{upstream}/v1",
            "UPSTREAM_API_KEY": bookshop.DEFAULT_API_KEY,
        }

        def argv(port: int) -> list[str]:
            return [str(site / "bin" / "bookshop-mcp"), "--transport", "http", "--port", str(port)]

        with cluster(argv, env=env, workdir=work) as running:
            yield running


def calls(url: str, mode: str, count: int) -> int:
    """`count` get_book calls over one client connection; how many came back as errors."""

    async def run() -> int:
        errors = 0
        async with mcpclient.connect(url, mode=mode) as client:
            for _ in range(count):
                result = await client.call_tool("get_book", {"bookId": "b1"})
                errors += bool(result.is_error)
        return errors

    return anyio.run(run)


def served(running: Cluster) -> list[float]:
    """get_book calls each replica has answered (its own /metrics)."""
    return [
        sample(r.metrics(), "mcp_tool_calls_total", tool="get_book", outcome="ok")
        if r.process is not None
        else 0.0
        for r in running.replicas
    ]


@pytest.mark.parametrize("mode", ERAS)
def test_calls_spread_over_both_replicas_without_errors(replicas: Cluster, mode: str) -> None:
    before = served(replicas)
    assert calls(replicas.url, mode, 20) == 0
    after = served(replicas)
    gained = [a - b for a, b in zip(after, before, strict=True)]
    assert sum(gained) == 20
    assert all(n >= 5 for n in gained), f"round robin spread the calls as {gained}"


def test_a_killed_replica_costs_no_call_and_health_checks_take_it_out(replicas: Cluster) -> None:
    assert calls(replicas.url, "2026-07-28", 4) == 0
    replicas.kill(0)  # between calls: none is in flight
    assert calls(replicas.url, "legacy", 10) == 0
    replicas.wait_unhealthy(0)
    before = served(replicas)
    assert calls(replicas.url, "2026-07-28", 10) == 0
    assert served(replicas)[1] - before[1] == 10  # the survivor answered every call
    replicas.start(0)  # back on its port: the health checks return it to the rotation
    before = served(replicas)
    for _ in range(100):
        assert calls(replicas.url, "2026-07-28", 4) == 0
        if served(replicas)[0] > before[0]:
            break
    else:
        pytest.fail("the restarted replica never got a call back")
