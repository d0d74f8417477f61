"""`PooledTransport` (the binding's default transport) behaves like httpx's own: connections are
reused, abandoned bodies close theirs, and every failure is an httpx exception, never one of
httpcore2's, so `except httpx.HTTPError` and the SDK's error mapping keep working."""

from __future__ import annotations

from collections.abc import Iterator

import httpcore2
import httpx
import pytest

from aigateway_sdk import PooledTransport
from tests.reliability.faultserver import (
    FaultServer,
    never_answer,
    ok_text,
    refused_port,
    reset_before_headers,
    reset_mid_body,
    sse,
    sse_frames,
)

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def client(**kwargs: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=PooledTransport(), **kwargs)  # type: ignore[arg-type]


async def test_requests_share_one_keep_alive_connection(server: FaultServer) -> None:
    server.default = ok_text("pooled")
    async with client() as http:
        for _ in range(20):
            response = await http.post(f"{server.url}/x", json={"n": 1})
            assert response.status_code == 200
            assert response.json()["result"]["response"] == "pooled"
        transport = http._transport
        assert isinstance(transport, PooledTransport)
        assert transport.connection_count == 1
    assert server.accepted == 1
    assert len(server.requests) == 20
    assert server.requests[0].body == b'{"n":1}'
    assert server.wait_until(lambda: server.open_connections == 0)  # aclose closed it


async def test_an_abandoned_stream_closes_its_connection(server: FaultServer) -> None:
    server.default = sse(sse_frames([f"part {n}" for n in range(50)]), then="hold")
    async with client() as http:
        async with http.stream("POST", f"{server.url}/s") as response:
            async for _chunk in response.aiter_bytes():
                break
        assert server.wait_until(lambda: server.open_connections == 0)
        transport = http._transport
        assert isinstance(transport, PooledTransport)
        assert transport.connection_count == 0


async def test_refused_connection_is_httpx_connect_error() -> None:
    async with client() as http:
        with pytest.raises(httpx.ConnectError) as raised:
            await http.get(f"http://127.0.0.1:{refused_port()}/")
    assert raised.value.request.url.path == "/"
    assert isinstance(raised.value.__cause__, httpcore2.ConnectError)


async def test_silence_is_httpx_read_timeout(server: FaultServer) -> None:
    server.default = never_answer()
    async with client(timeout=httpx.Timeout(5.0, read=0.2)) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"{server.url}/slow")


async def test_reset_before_headers_is_an_httpx_transport_error(server: FaultServer) -> None:
    server.script(reset_before_headers())
    async with client() as http:
        with pytest.raises(httpx.TransportError) as raised:
            await http.get(f"{server.url}/reset")
    assert not isinstance(raised.value, httpcore2.ProtocolError | httpcore2.NetworkError)


async def test_reset_in_the_body_is_an_httpx_error_while_reading(server: FaultServer) -> None:
    server.script(reset_mid_body())
    async with client() as http:
        with pytest.raises(httpx.TransportError):
            await http.get(f"{server.url}/cut")
        # The pool recovers: the next request gets a new connection.
        response = await http.get(f"{server.url}/again")
        assert response.status_code == 200
