"""`ChunkReader`: the body of a streamed reply, chunk by chunk, as the first stage of a stream.

It owns the two ways reading fails: the call's deadline passing (`Timeout`, "stream not complete
within N s") and the connection breaking (`stream interrupted: ...`, the reason
`reason_from_exception` gives). Both are `AiError`s carrying the reply's log id, raised with
the original exception as `__cause__` (the deadline's excepted). It reads any async iterator
of bytes, so it is tested without a socket.
"""

from __future__ import annotations

from collections.abc import AsyncIterable

import anyio

from aigateway_sdk.errors import AiError
from aigateway_sdk.streaming.deadline import Deadline
from aigateway_sdk.transport.failures import stream_interrupted
from aigateway_sdk.transport.http import SEND_ERRORS


class ChunkReader:
    """`async for chunk in ChunkReader(response.aiter_bytes(), deadline, log_id)`."""

    __slots__ = ("_chunks", "_deadline", "_log_id")

    def __init__(
        self, chunks: AsyncIterable[bytes], deadline: Deadline | None, log_id: str | None = None
    ) -> None:
        self._chunks = chunks.__aiter__()
        self._deadline = deadline
        self._log_id = log_id

    def __aiter__(self) -> ChunkReader:
        return self

    async def __anext__(self) -> bytes:
        deadline = self._deadline
        try:
            if deadline is None:
                return await self._chunks.__anext__()
            with deadline.within():
                return await self._chunks.__anext__()
        except TimeoutError as error:  # before SEND_ERRORS: TimeoutError is an OSError
            if deadline is None:
                raise AiError(stream_interrupted(error, log_id=self._log_id)) from error
            raise AiError(deadline.passed(self._log_id)) from None
        except SEND_ERRORS as error:
            raise AiError(stream_interrupted(error, log_id=self._log_id)) from error

    async def drain(self, seconds: float) -> None:
        """Read and drop the rest of the body (usually the chunked terminator) for at most
        `seconds`, so the connection can go back to the pool: a body left unread makes httpx
        close it. A failure here changes nothing and is ignored."""
        with anyio.move_on_after(seconds):
            try:
                async for _rest in self._chunks:
                    pass
            except SEND_ERRORS:
                pass


__all__ = ["ChunkReader"]
