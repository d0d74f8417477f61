"""What a conversation holds besides plain text: text and image parts, the tool calls a model
asks for, and the results sent back for them.

These are values shared by prompts (`Message`), responses, stream parts and the tool loop; the
wire shapes they take are the codecs' business (`aigateway_sdk.codecs`). `to_json()` gives
OpenAI's chat shapes, which both routes send (Workers AI's newer models take them too).
"""

from __future__ import annotations

import base64
from typing import Any, ClassVar, Literal, TypeAlias

import attrs

from aigateway_sdk import _json
from aigateway_sdk.contract.tools import BASE64, DATA_URL, TOOL_NAME
from aigateway_sdk.validation import FieldError, ValidationError

ImageDetail = Literal["auto", "low", "high"]
_DETAILS = frozenset(("auto", "low", "high"))
_IMAGE_SCHEMES = ("https://", "http://", "data:")
"""Standard base64 (RFC 4648 section 4), padded, as a data: URL carries an image."""

TOOL_NAME_PATTERN = TOOL_NAME
"""A tool name every provider takes (`aigateway_sdk.contract.tools.TOOL_NAME`)."""


@attrs.frozen(slots=True)
class TextPart:
    """Text inside a message made of parts."""

    type: ClassVar[str] = "text"
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"type": "text", "text": self.text}


def _data_url_problem(url: str) -> str | None:
    """What is wrong with a `data:` URL: its head, or data that is not (non-empty) base64."""
    head = DATA_URL.match(url)
    if head is None:
        return "a data: URL must be data:<media type>;base64,<data>"
    data = url[head.end() :]
    if not data or BASE64.fullmatch(data) is None:
        return "the data of a data: URL must be non-empty, padded standard base64"
    return None


def _check_image_url(url: str) -> None:
    problem: str | None = None
    if not isinstance(url, str) or not url.startswith(_IMAGE_SCHEMES):
        problem = "must be an http(s) URL or a data: URL (use ImagePart.from_bytes for bytes)"
    elif url.startswith("data:"):
        problem = _data_url_problem(url)
    if problem is not None:
        raise ValidationError([FieldError(("url",), problem)], what="image part")


def _check_detail(detail: ImageDetail | None) -> None:
    if detail is not None and (not isinstance(detail, str) or detail not in _DETAILS):
        raise ValidationError(
            [FieldError(("detail",), f"must be auto, low or high, got {detail!r}")],
            what="image part",
        )


@attrs.frozen(slots=True)
class ImagePart:
    """An image: an http(s) URL, or a `data:` URL made from bytes (`from_bytes`) or base64
    (`from_base64`). `detail` is OpenAI's resolution hint."""

    type: ClassVar[str] = "image"
    url: str = attrs.field(repr=lambda url: url if len(url) < 80 else url[:60] + "...")
    detail: ImageDetail | None = None

    def __attrs_post_init__(self) -> None:
        _check_image_url(self.url)
        _check_detail(self.detail)

    @classmethod
    def from_bytes(
        cls, data: bytes, media_type: str = "image/png", *, detail: ImageDetail | None = None
    ) -> ImagePart:
        """An image given as bytes, sent as a base64 `data:` URL."""
        if not isinstance(data, bytes | bytearray | memoryview) or not data:
            raise ValidationError(
                [FieldError(("data",), "must be non-empty bytes")], what="image part"
            )
        return cls.from_base64(base64.b64encode(data).decode("ascii"), media_type, detail=detail)

    @classmethod
    def from_base64(
        cls, data: str, media_type: str = "image/png", *, detail: ImageDetail | None = None
    ) -> ImagePart:
        """An image given as base64 text, sent as a `data:` URL."""
        return cls(f"data:{media_type};base64,{data}", detail)

    def to_json(self) -> dict[str, Any]:
        image: dict[str, Any] = {"url": self.url}
        if self.detail is not None:
            image["detail"] = self.detail
        return {"type": "image_url", "image_url": image}


ContentPart: TypeAlias = TextPart | ImagePart
"""One part of a message's content."""


@attrs.frozen(slots=True, kw_only=True)
class ToolCall:
    """A model's request to run one tool.

    `arguments` is the parsed JSON the model sent (normally an object); when the text was not
    JSON it is None and `parse_error` says why. `arguments_json` is the text as received."""

    id: str
    name: str
    arguments: Any = attrs.field(default=None, eq=False)
    arguments_json: str = "{}"
    parse_error: str | None = attrs.field(default=None, eq=False)

    @classmethod
    def of(cls, id: str, name: str, arguments: Any) -> ToolCall:
        """A call with arguments given as a value (written as JSON)."""
        return cls(
            id=id, name=name, arguments=arguments, arguments_json=_json.dumps(arguments).decode()
        )

    @classmethod
    def from_json(cls, id: str, name: str, text: str) -> ToolCall:
        """A call with arguments as the model sent them: JSON text (an empty text is `{}`)."""
        try:
            arguments = _json.loads(text) if text.strip() else {}
        except ValueError as error:
            return cls(id=id, name=name, arguments_json=text, parse_error=str(error)[:200])
        return cls(id=id, name=name, arguments=arguments, arguments_json=text)

    def to_json(self) -> dict[str, Any]:
        """OpenAI's shape, as an assistant message carries it."""
        function = {"name": self.name, "arguments": self.arguments_json}
        return {"id": self.id, "type": "function", "function": function}


@attrs.frozen(slots=True, kw_only=True)
class ToolResult:
    """What running a tool call gave: `value` as the handler returned it, `content` the text
    sent back to the model (a string value as is, anything else as JSON). `is_error`: the
    handler failed and `content` describes the failure (sent only when the caller opts in)."""

    call_id: str
    name: str
    value: Any = attrs.field(eq=False)
    content: str
    is_error: bool = False

    @classmethod
    def of(cls, call: ToolCall, value: Any) -> ToolResult:
        """The result of running `call` yourself: `value` a string (sent as is) or JSON (a
        dict, list, number, bool or None, sent as JSON text); `ValidationError` otherwise."""
        if isinstance(value, str):
            return cls(call_id=call.id, name=call.name, value=value, content=value)
        try:
            content = _json.dumps(value).decode()
        except (TypeError, ValueError) as error:
            raise ValidationError(
                [FieldError(("value",), f"must be a string or JSON: {error}")], what="tool result"
            ) from None
        return cls(call_id=call.id, name=call.name, value=value, content=content)


__all__ = [
    "TOOL_NAME_PATTERN",
    "ContentPart",
    "ImageDetail",
    "ImagePart",
    "TextPart",
    "ToolCall",
    "ToolResult",
]
