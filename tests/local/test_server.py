"""The in-process `LocalGateway` (threads, restarts, backends) and `aigateway serve`."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from aigateway_sdk.cli import serve
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from aigateway_sdk.local.storage.ulid import UlidGenerator, timestamp_ms
from aigateway_sdk.local.web.loopback import is_loopback
from tests.local.helpers import AUTH, GW_AUTH, MODEL, Api, async_client, sync_client


def test_urls_and_sync_use(gw: LocalGateway, account: str) -> None:
    assert gw.url == f"http://127.0.0.1:{gw.port}"
    assert gw.data_url == gw.url + "/v1"
    assert gw.api_url == gw.url + "/client/v4"
    response = sync_client().post(
        f"{gw.data_url}/{account}/default/workers-ai/{MODEL}",
        json={"prompt": "sync"},
        headers={**AUTH, **GW_AUTH},
    )
    assert response.status_code == 200


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_works_from_either_anyio_backend(gw: LocalGateway, anyio_backend: str) -> None:
    async with async_client() as http:
        response = await Api(gw, http).chat(content=f"from {anyio_backend}")
    assert anyio_backend in response.json()["choices"][0]["message"]["content"]


def test_stop_start_keeps_port_and_state(fresh_gw: LocalGateway) -> None:
    gw = fresh_gw
    port = gw.port
    first = sync_client().post(
        f"{gw.data_url}/a/default/workers-ai/{MODEL}",
        json={"prompt": "x"},
        headers={**AUTH, **GW_AUTH},
    )
    gw.stop()
    assert not gw.running
    with pytest.raises(httpx.ConnectError):
        sync_client().get(gw.url)
    gw.start()
    assert gw.port == port
    log_id = first.headers["cf-aig-log-id"]
    detail = sync_client().get(
        f"{gw.api_url}/accounts/a/ai-gateway/gateways/default/logs/{log_id}", headers=AUTH
    )
    assert detail.status_code == 200


def test_port_in_use_is_reported(gw: LocalGateway, tmp_path: Path) -> None:
    clash = LocalGateway(LocalGatewayConfig(port=gw.port, db_path=tmp_path / "b.db"))
    with pytest.raises(OSError):
        clash.start()


def test_ulids_sort_by_time_and_order() -> None:
    ulids = UlidGenerator()
    same_ms = [ulids.new(1_700_000_000.0) for _ in range(50)]
    assert same_ms == sorted(same_ms)
    assert len(set(same_ms)) == 50
    later = ulids.new(1_700_000_001.0)
    assert later > same_ms[-1]
    assert timestamp_ms(later) == 1_700_000_001_000


def serve_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.register(parser.add_subparsers())
    return parser.parse_args(["serve", *argv])


def test_serve_refuses_public_host_without_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIGATEWAY_API_TOKEN", raising=False)
    args = serve_args("--host", "0.0.0.0", "--db", "unused.db")
    assert args.run(args) == 2
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("192.168.1.4")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_command(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "AIGATEWAY_API_TOKEN": "cli-token"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aigateway_sdk.cli.main",
            "serve",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "cli.db"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/client/v4/accounts/a/ai-gateway/gateways"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = sync_client().get(url, headers={"authorization": "Bearer cli-token"})
                break
            except httpx.ConnectError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert response.status_code == 200
        assert sync_client().get(url, headers={"authorization": "Bearer other"}).status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert (tmp_path / "cli.db").exists()


def test_startup_failure_is_reported(tmp_path: Path) -> None:
    not_a_file = tmp_path / "dir.db"
    not_a_file.mkdir()
    with pytest.raises(RuntimeError, match="did not start"):
        LocalGateway(LocalGatewayConfig(db_path=not_a_file)).start()


@pytest.mark.parametrize("listen", ["serve", "LocalGateway"])
def test_accepted_connections_have_nagle_off(listen: str) -> None:
    """Both ways of listening hand uvicorn a socket whose accepted connections asyncio sets
    TCP_NODELAY on: without it each keep-alive reply waited for the client's delayed ACK
    (~44 ms a request through `aigateway serve`)."""
    import asyncio
    import socket

    from aigateway_sdk.cli import serve
    from aigateway_sdk.local.server import listening_socket

    make = serve._listen if listen == "serve" else listening_socket
    nodelay: list[int] = []

    async def main() -> None:
        accepted = asyncio.Event()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            nodelay.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            accepted.set()
            writer.close()

        server = await asyncio.start_server(handle, sock=make("127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            await accepted.wait()
            writer.close()

    asyncio.run(asyncio.wait_for(main(), 10))
    assert len(nodelay) == 1
    assert nodelay[0] != 0
