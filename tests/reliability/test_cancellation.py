"""Cancelling a call never leaks a connection: a stream abandoned by `break`, a cancelled anyio
scope, a cancelled task or a timeout either goes back to the pool (when its body was read to
the end) or is closed. Proven by counting the sockets the server still has open, the client's
pool and the process's file descriptors, after 1,000 cancelled streams on asyncio and 400 on
trio (`STREAMS_PER_MODE`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import anyio
import httpx
import psutil  # type: ignore[import-untyped]
import pytest

from aigateway_sdk import AiError, GatewayBinding, PooledTransport, RetryPolicy, TextDelta
from aigateway_sdk.gateway_model import GatewayLanguageModel

from .faultserver import FaultServer, never_answer, sse, sse_frames

pytestmark = pytest.mark.anyio
BACKENDS = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
MODEL = "@cf/meta/llama-3.1-8b-instruct"
STREAMS_PER_MODE = {"asyncio": 250, "trio": 100}
"""Four modes: 1,000 cancelled streams on asyncio, 400 more on trio (the same code paths)."""
CONCURRENCY = 25


@pytest.fixture
def server() -> Iterator[FaultServer]:
    # Each stream sends three deltas, then holds the connection open until the client leaves:
    # only a client that closes its socket lets the server's count drop.
    with FaultServer(sse(sse_frames(["a", "b", "c"], done=False), then="hold")) as running:
        yield running


def binding_for(server: FaultServer) -> GatewayBinding:
    return GatewayBinding(
        account_id="acct",
        gateway_id="gw",
        api_token="tok",
        base_url=f"{server.url}/v1",
        retry=RetryPolicy(max_retries=0),
        timeout=httpx.Timeout(5.0),
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
    )


def pool_size(binding: GatewayBinding) -> int:
    """Connections the client's pool holds (the default transport over httpcore2's pool)."""
    transport = binding.client._transport
    assert isinstance(transport, PooledTransport)
    return transport.connection_count


async def by_break(lm: GatewayLanguageModel) -> None:
    async for part in lm.stream_text(prompt="hi"):
        if isinstance(part, TextDelta):
            break


async def by_scope(lm: GatewayLanguageModel) -> None:
    with anyio.CancelScope() as scope:
        async for part in lm.stream_text(prompt="hi"):
            if isinstance(part, TextDelta):
                scope.cancel()
    assert scope.cancelled_caught


async def by_task_cancel(lm: GatewayLanguageModel) -> None:
    first_delta = anyio.Event()

    async def consume() -> None:
        async for part in lm.stream_text(prompt="hi"):
            if isinstance(part, TextDelta):
                first_delta.set()

    async with anyio.create_task_group() as group:
        group.start_soon(consume)
        await first_delta.wait()
        group.cancel_scope.cancel()


async def by_timeout_before_headers(lm: GatewayLanguageModel) -> None:
    with anyio.move_on_after(0.2) as scope:
        async for _part in lm.stream_text(prompt="hi"):
            raise AssertionError("the server never answers")
    assert scope.cancelled_caught


Mode = Callable[[GatewayLanguageModel], Coroutine[Any, Any, None]]


async def run_many(lm: GatewayLanguageModel, mode: Mode, count: int) -> None:
    for start in range(0, count, CONCURRENCY):
        async with anyio.create_task_group() as group:
            for _ in range(min(CONCURRENCY, count - start)):
                group.start_soon(mode, lm)


async def settle(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll `predicate` (it reads counters another thread updates) until it holds."""
    with anyio.move_on_after(timeout):
        while True:
            if predicate():
                return True
            await anyio.sleep(0.01)
    return predicate()


@BACKENDS
async def test_a_thousand_cancelled_streams_leak_no_connection(
    server: FaultServer, anyio_backend: str
) -> None:
    per_mode = STREAMS_PER_MODE[anyio_backend]
    process = psutil.Process()
    fds_before = process.num_fds()
    binding = binding_for(server)
    lm = binding.model(MODEL)
    for mode in (by_break, by_scope, by_task_cancel):
        await run_many(lm, mode, per_mode)
        # Every abandoned stream had an unread body: its connection must have been closed.
        assert await settle(lambda: server.open_connections == 0), (
            f"{mode.__name__}: {server.open_connections} connections left open at the server"
        )
        assert pool_size(binding) == 0
    assert len(server.requests) == 3 * per_mode
    server.default = never_answer()
    await run_many(lm, by_timeout_before_headers, per_mode)
    assert await settle(lambda: server.open_connections == 0), (
        f"timeouts: {server.open_connections} connections left open"
    )
    assert pool_size(binding) == 0
    await binding.aclose()
    # The whole process (client and server sides) is back to where it started.
    assert process.num_fds() <= fds_before + 4


@BACKENDS
async def test_streams_read_to_the_end_reuse_one_connection(server: FaultServer) -> None:
    server.default = sse(sse_frames(["a", "b"]))
    binding = binding_for(server)
    lm = binding.model(MODEL)
    for _ in range(50):
        parts = [p async for p in lm.stream_text(prompt="hi")]
        assert len(parts) > 3
    assert server.accepted == 1
    assert pool_size(binding) == 1
    await binding.aclose()
    assert await settle(lambda: server.open_connections == 0)


@BACKENDS
async def test_cancelled_generate_text_closes_its_connection(server: FaultServer) -> None:
    server.default = never_answer()
    binding = binding_for(server)
    lm = binding.model(MODEL)

    async def call() -> None:
        await lm.generate_text(prompt="hi")
        raise AssertionError("the server never answers")

    async with anyio.create_task_group() as group:
        for _ in range(60):  # fewer than the pool's 64 connections: all in flight at once
            group.start_soon(call)
        # Cancel only once every request is in flight at the server.
        assert await settle(lambda: len(server.requests) == 60)
        group.cancel_scope.cancel()
    assert await settle(lambda: server.open_connections == 0)
    assert pool_size(binding) == 0
    await binding.aclose()


async def test_asyncio_task_cancel_closes_the_stream(server: FaultServer) -> None:
    binding = binding_for(server)
    lm = binding.model(MODEL)
    seen: list[str] = []

    async def consume() -> None:
        async for part in lm.stream_text(prompt="hi"):
            if isinstance(part, TextDelta):
                seen.append(part.delta)

    tasks = [asyncio.create_task(consume()) for _ in range(50)]
    assert await settle(lambda: len(seen) >= 150)  # three deltas each, then the server holds
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    assert await settle(lambda: server.open_connections == 0)
    assert pool_size(binding) == 0
    await binding.aclose()


@BACKENDS
async def test_cancellation_is_not_turned_into_an_ai_error(server: FaultServer) -> None:
    """A cancelled call must propagate cancellation, not be swallowed or reported as a failure."""
    server.default = never_answer()
    binding = binding_for(server)
    lm = binding.model(MODEL)
    errors: list[AiError] = []
    with anyio.move_on_after(0.1) as scope:
        try:
            await lm.generate_text(prompt="hi")
        except AiError as error:  # pragma: no cover - the failure this test looks for
            errors.append(error)
    assert scope.cancelled_caught
    assert errors == []
    await binding.aclose()
