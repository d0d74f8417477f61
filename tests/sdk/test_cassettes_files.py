"""A corrupt or hand-edited cassette is a clear error naming the file and the line."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigateway_sdk.cassettes import Cassette, CassetteFormatError
from aigateway_sdk.cassettes.records import event_from_json, event_to_json, split_events
from aigateway_sdk.transport.sse import SseDecoder, SseEvent

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    offset = -1
    for _ in range(occurrence):
        offset = text.index(needle, offset + 1)
    return text.count("\n", 0, offset) + 1


@pytest.fixture
def good(tmp_path: Path) -> Path:
    """A cassette of two interactions: a JSON reply, then a stream."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/stream":
            return httpx.Response(
                200,
                content=b'data: {"response":"a"}\n\nevent: ping\ndata: x\n\ndata: [DONE]\n\n',
                headers={"content-type": "text/event-stream"},
            )
        return httpx.Response(200, json={"ok": True})

    path = tmp_path / "good.json"

    async def record() -> None:
        with Cassette.open(path, "record", inner=httpx.MockTransport(answer)) as cassette:
            async with httpx.AsyncClient(transport=cassette.transport) as client:
                await client.post("http://x.test/json", json={"q": 1})
                await client.post("http://x.test/stream", json={"q": 2})

    anyio.run(record)
    return path


def reopen(path: Path, text: str) -> CassetteFormatError:
    path.write_text(text)
    with pytest.raises(CassetteFormatError) as caught:
        Cassette.open(path, "replay")
    assert str(path) in str(caught.value)
    return caught.value


@pytest.mark.anyio
async def test_the_good_file_is_readable_and_replays(good: Path) -> None:
    text = await anyio.Path(good).read_text()
    assert '{"data": {"response": "a"}}' in text  # one event a line, JSON data as JSON
    assert '"event: ping\\ndata: x\\n\\n"' in text  # anything else as its text
    with Cassette.open(good, "replay") as cassette:
        async with httpx.AsyncClient(transport=cassette.transport) as client:
            reply = await client.post("http://x.test/stream", json={"q": 2})
    assert reply.content == b'data: {"response":"a"}\n\nevent: ping\ndata: x\n\ndata: [DONE]\n\n'


def test_a_truncated_file(good: Path) -> None:
    text = good.read_text()
    cut = text[: len(text) // 2]
    error = reopen(good, cut)
    assert error.line == cut.count("\n") + 1
    assert f"{good}:{error.line}: bad JSON" in str(error)


def test_bad_json(good: Path) -> None:
    text = good.read_text()
    broken = text.replace('"status": 200,', '"status": 200', 1)
    error = reopen(good, broken)
    assert error.line == line_of(broken, '"status": 200') + 1  # where the comma was due
    assert "bad JSON" in str(error)


def test_a_missing_field(good: Path) -> None:
    text = good.read_text()
    edited = text.replace('"status": 200,', "", 2).replace('"status": 200,', '"status": 200,')
    error = reopen(good, edited)
    assert error.line == line_of(edited, '"response": {')
    assert "interaction 1, response: missing field 'status'" in str(error)


def test_a_field_of_the_wrong_type(good: Path) -> None:
    text = good.read_text()
    edited = text.replace('"status": 200', '"status": "200"', 2).replace(
        '"status": "200"', '"status": 200', 1
    )
    error = reopen(good, edited)
    assert error.line == line_of(edited, '"status": "200"')
    assert "interaction 2, response: status: expected an HTTP status" in str(error)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('"json": {\n', '"yaml": {\n', 1), "body: expected"),
        (lambda t: t.replace('{"data": {"response": "a"}}', "42"), "an event is text"),
        (lambda t: t.replace('"method": "POST"', '"method": 7', 1), "method: expected text"),
        (lambda t: t.replace('"interactions": [', '"interactions": [\n    [],', 1), "an object"),
    ],
    ids=["body kind", "event", "method", "interaction"],
)
def test_hand_edits(good: Path, edit: object, message: str) -> None:
    text = good.read_text()
    error = reopen(good, edit(text))  # type: ignore[operator]
    assert message in str(error)
    assert error.line > 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("{}", "not a cassette"),
        ('{"aigateway_cassette": 2, "interactions": []}', "unsupported cassette version 2"),
        ('{"aigateway_cassette": 1}', "missing field 'interactions'"),
        ('{"aigateway_cassette": 1, "interactions": []} []', "extra data"),
        ("[1, 2]", "expected '{'"),
    ],
)
def test_not_a_cassette(tmp_path: Path, text: str, message: str) -> None:
    error = reopen(tmp_path / "other.json", text)
    assert message in str(error)


def test_not_text(tmp_path: Path) -> None:
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(CassetteFormatError, match="not UTF-8"):
        Cassette.open(path, "replay")


def test_bad_base64(tmp_path: Path) -> None:
    text = (
        '{"aigateway_cassette": 1, "interactions": [\n'
        '{"request": {"method": "GET", "url": "http://x.test/"},\n'
        ' "response": {"status": 200, "body": {"base64": "not base64!"}}}]}'
    )
    error = reopen(tmp_path / "b64.json", text)
    assert error.line == 3


# -- streams in the file: what is written replays as the same events ---------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.builds(lambda v: b"data: " + json.dumps(v).encode() + b"\n\n", JSON_VALUES),
            st.builds(
                lambda v: b"data: " + json.dumps(v, separators=(",", ":")).encode() + b"\n\n",
                JSON_VALUES,
            ),
            st.sampled_from([b"\n\n", b"\r\n\r\n", b"\r\r", b"data: [DONE]\n\n", b": ping\n\n"]),
        ),
        max_size=12,
    )
)
def test_a_recorded_stream_replays_as_the_same_events(pieces: list[bytes]) -> None:
    content = b"".join(pieces)
    blocks = split_events(content)
    assert b"".join(blocks) == content  # nothing lost, nothing added
    # Through the file's form (JSON or text per event) and back: the same bytes, hence the
    # same events.
    written = json.loads(json.dumps([event_to_json(block) for block in blocks]))
    replayed = [event_from_json(item) for item in written]
    assert b"".join(replayed) == content
    assert events_of(replayed) == events_of(blocks)


def events_of(chunks: list[bytes]) -> list[SseEvent]:
    decoder = SseDecoder()
    events: list[SseEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events
