"""`Cassette`: one file of recorded requests and replies, its mode, matching and scrubbing.

    with Cassette.open("tests/cassettes/summary.json", mode="once") as cassette:
        binding = GatewayBinding(..., transport=cassette.transport)
        ...                    # the file is written when the cassette closes (recording modes)

Modes:
- `replay`: answer from the file only; never touch the network. The file must exist.
- `record`: every request goes to the network; the file is (over)written on close.
- `once`: `replay` when the file exists, else `record`.
- `new_episodes`: replay what matches, send the rest to the network and add it to the file.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from types import TracebackType

import httpx

from aigateway_sdk.cassettes import fileformat
from aigateway_sdk.cassettes.errors import CassetteMissError, CassetteNotFoundError
from aigateway_sdk.cassettes.match import DEFAULT_MATCH, MatchOn, describe, key_function
from aigateway_sdk.cassettes.modes import MODE_ENV, MODES, Mode
from aigateway_sdk.cassettes.records import (
    Body,
    Interaction,
    RecordedRequest,
    RecordedResponse,
    split_events,
)
from aigateway_sdk.cassettes.scrub import (
    NOISE_RESPONSE_HEADERS,
    Scrubber,
    learned_secrets,
)
from aigateway_sdk.cassettes.transport import CassetteTransport
from aigateway_sdk.validation import FieldError, ValidationError


class Recording:
    """A request being recorded: its reply's bytes are added as the client reads them."""

    def __init__(self, cassette: Cassette, request: RecordedRequest) -> None:
        self.cassette = cassette
        self.request = request
        self.response: httpx.Response | None = None
        self.chunks: list[bytes] = []
        self.complete = False
        self.result: Interaction | None = None

    def finish(self) -> None:
        """Turn what was read into the recorded reply (once; again is a no-op)."""
        response = self.response
        if self.result is not None or response is None:
            return
        scrubber = self.cassette.scrubber
        # secrets out of the bytes first: a reply that is not UTF-8 is kept as base64
        content = scrubber.data(b"".join(self.chunks), self.cassette._learned)
        content_type = response.headers.get("content-type", "")
        headers = scrubber.header_pairs(response.headers, NOISE_RESPONSE_HEADERS)
        if content_type.startswith("text/event-stream"):
            recorded = RecordedResponse(
                response.status_code,
                headers,
                events=tuple(split_events(content)),
                cut=not self.complete,
            )
        else:
            body = scrubber.body(Body.of(content, content_type))
            recorded = RecordedResponse(response.status_code, headers, body, cut=not self.complete)
        self.result = Interaction(self.request, recorded)

    def drop(self) -> None:
        self.cassette.recordings.remove(self)


def _check(path: str | Path, mode: str, match: MatchOn) -> None:
    problems = []
    if mode not in MODES:
        problems.append(FieldError(("mode",), f"must be one of {', '.join(MODES)}; got {mode!r}"))
    if not isinstance(path, str | Path) or not str(path):
        problems.append(FieldError(("path",), "must be a file path"))
    if problems:
        raise ValidationError(problems, what="cassette")
    key_function(match)  # an unknown part is refused here, not on the first request


class Cassette:
    """Recorded requests and replies in a file; `transport` serves them to an httpx client.

    Build one with `Cassette.open(path, mode=..., ...)`; `close()` (or leaving `with`) writes
    the file in the recording modes. Requests are matched on `match` (default method, path
    and JSON body with sorted keys); identical requests replay in the order recorded, each
    reply once. See `aigateway_sdk.cassettes.scrub` for what is never written."""

    def __init__(
        self,
        path: Path,
        mode: Mode,
        *,
        match: MatchOn = DEFAULT_MATCH,
        scrubber: Scrubber | None = None,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        _check(path, mode, match)
        self.path = Path(path)
        self.mode: Mode = mode
        self.match = match
        self.scrubber = scrubber or Scrubber()
        self._key = key_function(match)
        exists = self.path.exists()
        if mode == "replay" and not exists:
            raise CassetteNotFoundError(
                self.path,
                f"cassette {self.path} does not exist (mode replay); record it with mode "
                f"'once' or 'record' (pytest: --cassette-mode=once, or {MODE_ENV}=once)",
            )
        self.replaying = mode in ("replay", "new_episodes") or (mode == "once" and exists)
        self.recording = mode in ("record", "new_episodes") or (mode == "once" and not exists)
        self.loaded = fileformat.load(self.path) if self.replaying and exists else []
        self.played: set[int] = set()
        self._queues: dict[Hashable, deque[int]] = {}
        for index, interaction in enumerate(self.loaded):
            self._queues.setdefault(self._key(interaction.request), deque()).append(index)
        self.recordings: list[Recording] = []
        self._learned: set[str] = set()
        self._closed = False
        self._transport = CassetteTransport(self, inner)

    @classmethod
    def open(
        cls,
        path: str | Path,
        mode: Mode = "replay",
        *,
        match: MatchOn = DEFAULT_MATCH,
        scrub_headers: Iterable[str] = (),
        scrub_query: Iterable[str] = (),
        scrub_fields: Iterable[str] = (),
        secrets: Iterable[str] | Mapping[str, str] = (),
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> Cassette:
        """The cassette at `path` (read now when it is replayed: a bad file fails here).

        `scrub_headers` / `scrub_query` / `scrub_fields` add header names, query parameters and
        JSON body fields (at any depth) whose values are never written; `secrets` are values
        (provider keys, say) replaced anywhere, by `<scrubbed>` or, given as a mapping, by
        their placeholder. `inner` is the real transport in a recording mode (default the
        SDK's `PooledTransport`)."""
        scrubber = Scrubber.build(scrub_headers, scrub_query, scrub_fields, secrets)
        return cls(Path(path), mode, match=match, scrubber=scrubber, inner=inner)

    # -- transports ------------------------------------------------------------------

    @property
    def transport(self) -> CassetteTransport:
        """The transport to give a `GatewayBinding(transport=...)` or an
        `httpx.AsyncClient(transport=...)`."""
        return self._transport

    def wrap(self, inner: httpx.AsyncBaseTransport) -> CassetteTransport:
        """Another transport on this cassette, recording through `inner`."""
        return CassetteTransport(self, inner)

    # -- matching (called by the transport) ------------------------------------------

    def take(self, request: RecordedRequest) -> Interaction | None:
        """The next unplayed recorded interaction matching `request`, marked played."""
        queue = self._queues.get(self._key(request))
        if not queue:
            return None
        index = queue.popleft()
        self.played.add(index)
        return self.loaded[index]

    def miss(self, request: RecordedRequest) -> CassetteMissError:
        key = self._key(request)
        matching = sum(1 for i in self.loaded if self._key(i.request) == key)
        if matching:
            why = f"its {matching} recorded repl{'y was' if matching == 1 else 'ies were'} used"
        else:
            why = "nothing recorded matches it"
        recorded = "; ".join(i.request.describe() for i in self.loaded[:5]) or "none"
        more = f" and {len(self.loaded) - 5} more" if len(self.loaded) > 5 else ""
        return CassetteMissError(
            self.path,
            f"cassette {self.path} (mode {self.mode}) has no reply for "
            f"{request.describe()}: {why} (matching on {describe(self.match)}). "
            f"Recorded: {recorded}{more}. Record it again with mode 'record' or "
            f"'new_episodes' (pytest: --cassette-mode=record, or {MODE_ENV}=record).",
        )

    def start_recording(self, request: RecordedRequest, headers: httpx.Headers) -> Recording:
        self._learned |= learned_secrets(headers, self.scrubber.headers)
        recording = Recording(self, request)
        self.recordings.append(recording)
        return recording

    # -- results ---------------------------------------------------------------------

    @property
    def unplayed(self) -> list[Interaction]:
        """Recorded interactions no request has replayed (yet)."""
        return [i for n, i in enumerate(self.loaded) if n not in self.played]

    @property
    def recorded(self) -> list[Interaction]:
        """What this cassette recorded from the network so far (streams read so far)."""
        for recording in self.recordings:
            recording.finish()
        return [r.result for r in self.recordings if r.result is not None]

    def save(self) -> None:
        """Write the file now (the recording modes; `close()` does it)."""
        new = self.recorded
        if self.mode == "new_episodes" and not new and self.path.exists():
            return
        interactions = [*self.loaded, *new] if self.mode == "new_episodes" else new
        learned = sorted(self._learned, key=len, reverse=True)
        fileformat.dump(
            self.path,
            (self.scrubber.strings(fileformat.interaction_json(i), learned) for i in interactions),
        )

    def close(self) -> None:
        """Write the file if recording; a stream still open is written as read so far (cut)."""
        if self._closed:
            return
        self._closed = True
        if self.recording:
            self.save()

    def __enter__(self) -> Cassette:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Cassette({str(self.path)!r}, mode={self.mode!r})"


__all__ = ["Cassette", "Recording"]
