"""Slow and stalled clients are dropped: a request's head and body must arrive within their
timeouts (408, then the connection closes), open connections are capped (503 at once), and a
request framed two ways (Content-Length and chunked) is refused instead of hanging.

Raw sockets, because these are faults an HTTP client library will not commit on purpose. The
deadlines are short here (`SHORT`); `BOUND` is only how long a test waits before calling a
connection held (far above the deadline, so load on the machine cannot fail a test)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import attrs
import pytest

from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from tests.local.helpers import MODEL, TOKEN

pytestmark = pytest.mark.anyio
SHORT = 0.3
BOUND = 15.0
AUTHS = f"authorization: Bearer {TOKEN}\r\ncf-aig-authorization: Bearer {TOKEN}\r\n"
BODY = b'{"prompt": "hi"}'


def head(account: str = "acct", extra: str = "", length: int | None = len(BODY)) -> bytes:
    framing = f"content-length: {length}\r\n" if length is not None else ""
    return (
        f"POST /v1/{account}/default/workers-ai/{MODEL} HTTP/1.1\r\nhost: localhost\r\n"
        f"{AUTHS}content-type: application/json\r\n{framing}{extra}\r\n"
    ).encode()


@pytest.fixture
def quick_gw(tmp_path: Path, config: LocalGatewayConfig) -> Iterator[LocalGateway]:
    quick = attrs.evolve(
        config, db_path=tmp_path / "quick.db", header_timeout=SHORT, body_timeout=SHORT
    )
    with LocalGateway(quick) as gw:
        yield gw


@contextlib.asynccontextmanager
async def connection(
    gw: LocalGateway,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (fails if it never does)."""
    received = b""
    async with asyncio.timeout(BOUND):
        while chunk := await reader.read(65536):
            received += chunk
    return received


async def drip(writer: asyncio.StreamWriter, data: bytes, reader: asyncio.StreamReader) -> bytes:
    """Send `data` a byte at a time until the server closes; what it said by then."""
    sender = asyncio.ensure_future(_drip(writer, data))
    try:
        return await until_closed(reader)
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await sender


async def _drip(writer: asyncio.StreamWriter, data: bytes) -> None:
    for byte in data:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(SHORT / 10)


def status_of(reply: bytes) -> int:
    assert reply.startswith(b"HTTP/1.1 "), reply[:200]
    return int(reply[9:12])


async def test_slowloris_head_is_dropped_with_408(quick_gw: LocalGateway) -> None:
    async with connection(quick_gw) as (reader, writer):
        reply = await drip(writer, head(), reader)  # ~250 bytes: seconds at this pace
    assert status_of(reply) == 408
    assert b'"code":7408' in reply
    assert b"connection: close" in reply.lower()


async def test_a_connection_that_never_speaks_is_closed(quick_gw: LocalGateway) -> None:
    async with connection(quick_gw) as (reader, _writer):
        assert await until_closed(reader) == b""


@pytest.mark.parametrize("slowly", [False, True], ids=["stalled", "dripped"])
async def test_partial_body_is_dropped_with_408(quick_gw: LocalGateway, slowly: bool) -> None:
    async with connection(quick_gw) as (reader, writer):
        writer.write(head(length=1000) + b'{"prompt": "')
        await writer.drain()
        reply = await (drip(writer, b"x" * 1000, reader) if slowly else until_closed(reader))
    assert status_of(reply) == 408


async def test_body_dripped_after_an_early_reply_is_dropped(quick_gw: LocalGateway) -> None:
    """The gateway answers 401 before reading the body; the rest of the body must still come
    in time, or the connection goes."""
    request = head(length=1000).replace(f"cf-aig-authorization: Bearer {TOKEN}".encode(), b"x: y")
    async with connection(quick_gw) as (reader, writer):
        writer.write(request + b"{")
        await writer.drain()
        reply = await drip(writer, b"x" * 1000, reader)
    assert status_of(reply) == 401
    assert reply.count(b"HTTP/1.1 ") == 1


async def test_many_half_sent_requests_are_all_dropped(quick_gw: LocalGateway) -> None:
    async def half(index: int) -> bytes:
        async with connection(quick_gw) as (reader, writer):
            writer.write(head(length=100)[: 40 + index % 60] if index % 2 else head(length=100))
            await writer.drain()
            return await until_closed(reader)

    replies = await asyncio.gather(*(half(i) for i in range(60)))
    assert {status_of(reply) for reply in replies} == {408}
    await served(quick_gw)


async def served(gw: LocalGateway, account: str = "acct") -> bytes:
    async with connection(gw) as (reader, writer):
        writer.write(head(account, extra="connection: close\r\n") + BODY)
        await writer.drain()
        reply = await until_closed(reader)
    assert status_of(reply) == 200, reply[:300]
    return reply


async def test_keep_alive_between_requests_is_not_a_slow_head(quick_gw: LocalGateway) -> None:
    """An idle keep-alive connection is under `keep_alive_timeout`, not the head deadline."""
    async with connection(quick_gw) as (reader, writer):
        for pause in (SHORT * 2, 0):
            writer.write(head() + BODY)
            await writer.drain()
            reply = await reader.readuntil(b"\r\n\r\n")
            assert status_of(reply) == 200
            length = int(reply.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            await asyncio.sleep(pause)


async def test_a_long_streamed_reply_is_not_cut(tmp_path: Path, config: LocalGatewayConfig) -> None:
    slow = attrs.evolve(
        config,
        db_path=tmp_path / "slow.db",
        header_timeout=SHORT,
        body_timeout=SHORT,
        builtin_token_latency_ms=SHORT * 1000 / 8,
    )
    body = b'{"prompt": "hi", "stream": true, "max_tokens": 12}'
    with LocalGateway(slow) as gw:
        async with connection(gw) as (reader, writer):
            writer.write(head(extra="connection: close\r\n", length=len(body)) + body)
            await writer.drain()
            reply = await until_closed(reader)
    assert status_of(reply) == 200
    assert b"data: [DONE]" in reply


@pytest.mark.parametrize(
    "body",
    [b"5\r\nhello\r\n0\r\n\r\n", BODY],
    ids=["chunked-body", "plain-body"],
)
async def test_content_length_with_chunked_is_400_and_closed(
    quick_gw: LocalGateway, body: bytes
) -> None:
    request = head(extra="transfer-encoding: chunked\r\n", length=len(body)) + body
    async with connection(quick_gw) as (reader, writer):
        writer.write(request)
        await writer.drain()
        reply = await until_closed(reader)
    assert status_of(reply) == 400
    assert b"Transfer-Encoding" in reply
    await served(quick_gw)


async def test_connections_past_the_cap_get_503_at_once(
    tmp_path: Path, config: LocalGatewayConfig
) -> None:
    capped = attrs.evolve(config, db_path=tmp_path / "capped.db", max_connections=3)
    with LocalGateway(capped) as gw:
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(3):
                await stack.enter_async_context(connection(gw))
            async with connection(gw) as (reader, _writer):
                reply = await until_closed(reader)
            assert status_of(reply) == 503
            assert b'"code":7503' in reply
        await served(gw)
