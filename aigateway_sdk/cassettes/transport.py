"""`CassetteTransport`: an httpx transport that answers from a cassette, or calls the real
transport and records what it said, streams included, as the client reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import anyio.lowlevel
import httpx

from aigateway_sdk.cassettes.errors import CassetteError
from aigateway_sdk.cassettes.records import Interaction

if TYPE_CHECKING:
    from aigateway_sdk.cassettes.cassette import Cassette, Recording


class _ReplayStream(httpx.AsyncByteStream):
    """A recorded reply's bytes, one chunk per event for a stream."""

    def __init__(self, chunks: list[bytes], cut: CassetteError | None) -> None:
        self._chunks = chunks
        self._cut = cut

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            await anyio.lowlevel.checkpoint()
            yield chunk
        if self._cut is not None:
            raise self._cut


class _RecordingStream(httpx.AsyncByteStream):
    """The real reply's (decoded) bytes, each kept by `recording` as the client reads it."""

    def __init__(self, response: httpx.Response, recording: Recording) -> None:
        self._response = response
        self._recording = recording

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_bytes():
            self._recording.chunks.append(chunk)
            yield chunk
        self._recording.complete = True

    async def aclose(self) -> None:
        self._recording.finish()
        await self._response.aclose()


def _replay(interaction: Interaction, cassette: Cassette) -> httpx.Response:
    response = interaction.response
    cut = None
    if response.cut:
        cut = CassetteError(
            cassette.path,
            f"cassette {cassette.path}: the reply to {interaction.request.describe()} was "
            f"recorded cut (the client stopped reading after {len(response.chunks())} "
            "part(s)) and this client read further; record it again",
        )
    return httpx.Response(
        response.status,
        # as bytes: httpx encodes text as ASCII, and a recorded value may be any text
        headers=[(name.encode(), value.encode()) for name, value in response.headers],
        stream=_ReplayStream(response.chunks(), cut),
    )


class CassetteTransport(httpx.AsyncBaseTransport):
    """Serves requests from `cassette`; in a recording mode, a request with no recorded reply
    goes to `inner` (made by `make_inner` on first need), and its reply is recorded."""

    def __init__(
        self,
        cassette: Cassette,
        inner: httpx.AsyncBaseTransport | None = None,
        make_inner: Callable[[], httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.cassette = cassette
        self._inner = inner
        self._owns_inner = inner is None
        self._make_inner = make_inner

    def _inner_transport(self) -> httpx.AsyncBaseTransport:
        if self._inner is None:
            if self._make_inner is None:
                # Imported here: a replaying cassette never loads the pool (httpcore2, ssl).
                from aigateway_sdk.transport.pool import PooledTransport

                self._inner = PooledTransport()
            else:
                self._inner = self._make_inner()
        return self._inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        cassette = self.cassette
        recorded = cassette.scrubber.request(request, await request.aread())
        found = cassette.take(recorded)
        if found is not None:
            return _replay(found, cassette)
        if not cassette.recording:
            raise cassette.miss(recorded)
        recording = cassette.start_recording(recorded, request.headers)
        try:
            response = await self._inner_transport().handle_async_request(request)
        except BaseException:
            # A connection error is no HTTP reply: nothing is recorded, the error propagates.
            recording.drop()
            raise
        response.request = request
        recording.response = response
        headers = response.headers.copy()
        if "content-encoding" in headers:  # what is recorded (and read) is the decoded body
            del headers["content-encoding"]
            headers.pop("content-length", None)
        return httpx.Response(
            response.status_code,
            headers=headers,
            stream=_RecordingStream(response, recording),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close the real transport (one this transport made is made again if needed)."""
        inner = self._inner
        if self._owns_inner:
            self._inner = None
        if inner is not None:
            await inner.aclose()


__all__ = ["CassetteTransport"]
