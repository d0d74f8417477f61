"""`kill -9` of `aigateway serve` in the middle of load, then a restart on the same database:
every request that got a `cf-aig-log-id` has its log, every gateway whose creation was
acknowledged is there with its settings, and SQLite's integrity check passes."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import anyio
import httpx
import pytest

from .gateway import AUTH, TOKEN, Planes, client, db_log_ids

pytestmark = pytest.mark.anyio


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(db: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`python -m aigateway_sdk serve` on a free loopback port; killed at the end if alive."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aigateway_sdk",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            str(db),
            "--api-token",
            TOKEN,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


async def wait_ready(http: httpx.AsyncClient, url: str, process: subprocess.Popen[bytes]) -> None:
    with anyio.fail_after(20):
        while True:
            assert process.poll() is None, "the gateway exited"
            try:
                await http.get(f"{url}/client/v4/accounts/x/ai-gateway/gateways", headers=AUTH)
                return
            except httpx.TransportError:
                await anyio.sleep(0.05)


def check_integrity(db: Path) -> None:
    # Opened read-write, as a restarted gateway would: SQLite recovers the WAL first.
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_kill_9_during_load_loses_no_acknowledged_log(tmp_path: Path) -> None:
    db = tmp_path / "gw.db"
    acknowledged: list[str] = []
    enough = anyio.Event()
    gateways = {"alpha": {"cache_ttl": 120}, "beta": {"rate_limiting_limit": 0}, "gamma": {}}
    with serve(db) as (process, url):
        async with client(connections=64, timeout=10) as http:
            await wait_ready(http, url, process)
            planes = Planes(url, http)
            for gateway_id, settings in gateways.items():
                await planes.create(gateway_id, **settings)

            async def worker(gateway_id: str) -> None:
                while True:
                    try:
                        response = await planes.run(gateway_id)
                    except httpx.HTTPError:
                        return  # the server is gone
                    if "cf-aig-log-id" in response.headers:
                        acknowledged.append(f"{gateway_id}:{response.headers['cf-aig-log-id']}")
                        if len(acknowledged) >= 150:
                            enough.set()

            async with anyio.create_task_group() as group:
                for i in range(48):
                    group.start_soon(worker, list(gateways)[i % 3])
                with anyio.fail_after(30):
                    await enough.wait()
                os.kill(process.pid, signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL

    check_integrity(db)
    for gateway_id in gateways:
        stored = set(db_log_ids(db, "acct", gateway_id))
        wanted = {a.split(":", 1)[1] for a in acknowledged if a.startswith(f"{gateway_id}:")}
        missing = wanted - stored
        assert not missing, f"{len(missing)} acknowledged logs of {gateway_id} lost"

    with serve(db) as (process, url):
        async with client(connections=8) as http:
            await wait_ready(http, url, process)
            planes = Planes(url, http)
            listed = (await http.get(planes.control(), headers=AUTH)).json()["result"]
            by_id = {g["id"]: g for g in listed}
            assert set(gateways) <= set(by_id)
            assert by_id["alpha"]["cache_ttl"] == 120
            # The restarted gateway serves the old logs and takes new ones.
            sample = acknowledged[0].split(":", 1)
            got = await http.get(planes.control(f"/{sample[0]}/logs/{sample[1]}"), headers=AUTH)
            assert got.status_code == 200, got.text
            assert (await planes.run("alpha")).status_code == 200
    check_integrity(db)


async def test_kill_9_during_gateway_writes_keeps_every_acknowledged_gateway(
    tmp_path: Path,
) -> None:
    db = tmp_path / "gw.db"
    created: list[tuple[str, str]] = []
    enough = anyio.Event()
    with serve(db) as (process, url):
        async with client(connections=32, timeout=10) as http:
            await wait_ready(http, url, process)

            async def writer(account: str) -> None:
                planes = Planes(url, http, account)
                for n in range(10):  # at most 10 gateways per account
                    try:
                        response = await http.post(
                            planes.control(),
                            json={"id": f"gw-{n}", **_settings(n)},
                            headers=AUTH,
                        )
                    except httpx.HTTPError:
                        return
                    if response.status_code == 200:
                        created.append((account, f"gw-{n}"))
                        if len(created) >= 60:
                            enough.set()

            async with anyio.create_task_group() as group:
                for a in range(30):
                    group.start_soon(writer, f"acct-{a}")
                with anyio.fail_after(30):
                    await enough.wait()
                os.kill(process.pid, signal.SIGKILL)

    check_integrity(db)
    with serve(db) as (process, url):
        async with client(connections=8) as http:
            await wait_ready(http, url, process)
            for account, gateway_id in created:
                response = await http.get(
                    Planes(url, http, account).control(f"/{gateway_id}"), headers=AUTH
                )
                assert response.status_code == 200, (account, gateway_id, response.text)
                assert response.json()["result"]["cache_ttl"] == int(gateway_id[3:]) * 10


def _settings(n: int) -> dict[str, object]:
    return {
        "cache_ttl": n * 10,
        "cache_invalidate_on_update": False,
        "collect_logs": True,
        "rate_limiting_interval": 0,
        "rate_limiting_limit": 0,
    }


@pytest.mark.parametrize("durability", ["commit", "background"])
async def test_graceful_stop_under_load_keeps_every_acknowledged_log(
    tmp_path: Path, durability: str
) -> None:
    """`stop()` while requests are in flight: those answered have their logs, whichever
    durability was chosen (background logs are flushed on stop)."""
    from aigateway_sdk.local import LocalGateway, LocalGatewayConfig

    db = tmp_path / "gw.db"
    config = LocalGatewayConfig(
        db_path=db,
        api_token=TOKEN,
        builtin_latency_ms=50,
        log_durability=durability,  # type: ignore[arg-type]
    )
    gateway = LocalGateway(config).start()
    acknowledged: list[str] = []
    forty = anyio.Event()
    try:
        async with client(connections=64, timeout=10) as http:
            planes = Planes(gateway.url, http)
            await planes.create("busy")

            async def worker() -> None:
                while True:
                    try:
                        response = await planes.run("busy")
                    except httpx.HTTPError:
                        return
                    if response.status_code != 200:
                        return
                    acknowledged.append(response.headers["cf-aig-log-id"])
                    if len(acknowledged) >= 40:
                        forty.set()

            async with anyio.create_task_group() as group:
                for _ in range(40):
                    group.start_soon(worker)
                # Stop once 40 answers are in (not after a fixed time: a loaded machine
                # answers fewer in 0.3 s), with the 40 workers' next requests in flight.
                with anyio.fail_after(60):
                    await forty.wait()
                await anyio.to_thread.run_sync(gateway.stop)
    finally:
        gateway.stop()
    assert len(acknowledged) >= 40
    check_integrity(db)
    assert set(acknowledged) <= set(db_log_ids(db, "acct", "busy"))
