"""How a call is consumed: plain `await` (raises `AiError`), `.or_die()` (raises `Defect`),
or `.result()` (an `Ok`/`Err` value). Streams get the same three ways."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar

import attrs

from aigateway_sdk.collect import StepsCollector
from aigateway_sdk.errors import AiError, Defect
from aigateway_sdk.parts import (
    StreamPart,
    TextDelta,
)
from aigateway_sdk.response import GenerateTextResponse

T = TypeVar("T")


@attrs.frozen(slots=True)
class Ok(Generic[T]):
    value: T

    @property
    def is_ok(self) -> bool:
        return True


@attrs.frozen(slots=True)
class Err:
    error: AiError

    @property
    def is_ok(self) -> bool:
        return False


Result = Ok[T] | Err


class AiCall(Coroutine[Any, Any, T]):
    """A call not yet made. Await it (once, like any coroutine), or pick how failures come back
    with `.or_die()` or `.result()` (each of those sends its own request).

    It is a real `Coroutine`, so `asyncio.create_task`, `asyncio.gather`, trio's `start_soon`
    and anyio's task groups accept it; the request is only built when it first runs, and an
    `AiCall` that is never awaited leaves no "never awaited" warning behind.
    """

    __slots__ = ("_running", "_start")

    def __init__(self, start: Callable[[], Coroutine[Any, Any, T]]) -> None:
        self._start = start
        self._running: Coroutine[Any, Any, T] | None = None

    def _coroutine(self) -> Coroutine[Any, Any, T]:
        running = self._running
        if running is None:
            running = self._running = self._start()
        return running

    def __await__(self) -> Generator[Any, None, T]:
        return self._coroutine().__await__()

    def send(self, value: Any) -> Any:
        return self._coroutine().send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        if val is None and tb is None:
            return self._coroutine().throw(typ)
        return self._coroutine().throw(typ, val, tb)

    def close(self) -> None:
        if self._running is not None:
            self._running.close()

    async def or_die(self) -> T:
        """The value, or a `Defect` (not an `AiError`) when the call fails."""
        try:
            return await self._start()
        except AiError as error:
            raise Defect(error) from error

    async def result(self) -> Ok[T] | Err:
        """`Ok(value)` or `Err(error)`; never raises an `AiError`."""
        try:
            return Ok(await self._start())
        except AiError as error:
            return Err(error)


class AiStream:
    """A stream not yet opened. `async for part in stream` opens it (once per loop); leaving the
    loop early closes the HTTP stream. `async with stream as parts:` closes it deterministically."""

    __slots__ = ("_loop", "_open", "_running")

    def __init__(
        self, open_parts: Callable[[], AsyncIterator[StreamPart]], *, loop: bool = False
    ) -> None:
        """`loop`: the stream is a tool loop's (`collect()` then gives its steps even when
        the model was called once, as `generate_text(toolkit=...)` does)."""
        self._open = open_parts
        self._loop = loop
        self._running: AsyncIterator[StreamPart] | None = None

    def __aiter__(self) -> AsyncIterator[StreamPart]:
        return self._open()

    async def __aenter__(self) -> AsyncIterator[StreamPart]:
        self._running = self._open()
        return self._running

    async def __aexit__(self, *exc_info: object) -> None:
        running, self._running = self._running, None
        aclose = getattr(running, "aclose", None)
        if aclose is not None:
            await aclose()

    async def or_die(self) -> AsyncIterator[StreamPart]:
        """The parts, with a failure raised as a `Defect` instead of an `AiError`."""
        parts = self._open()
        try:
            async for part in parts:
                yield part
        except AiError as error:
            raise Defect(error) from error
        finally:
            aclose = getattr(parts, "aclose", None)
            if aclose is not None:
                await aclose()

    async def text(self) -> AsyncIterator[str]:
        """Just the text deltas."""
        async for part in self:
            if type(part) is TextDelta:
                yield part.delta

    async def collect(self) -> GenerateTextResponse:
        """Read the whole stream into one response (as `generate_text` would give): its text,
        the tool calls it asked for and the results of those a tool loop ran. A stream of
        several model calls (a tool loop: one `Finish` per call) gives the last call's text,
        calls and finish reason, `usage` summed over the calls, and `steps`, one per call."""
        collector = StepsCollector()
        async for part in self:
            if type(part) is TextDelta and not collector.done:
                collector.pieces.append(part.delta)
            else:
                collector.add(part)
        return collector.response(loop=self._loop)

    async def result(self) -> Ok[GenerateTextResponse] | Err:
        """The whole stream collected as `Ok(response)`, or `Err(error)`; never raises an
        `AiError`."""
        try:
            return Ok(await self.collect())
        except AiError as error:
            return Err(error)


__all__ = ["AiCall", "AiStream", "Err", "Ok", "Result"]
