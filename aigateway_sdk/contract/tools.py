"""Tool calling and image input as the providers behind the gateway take them: names, counts
and the shape of an inline image. The SDK checks what it sends and reads against these, and
the local gateway checks requests against the same."""

from __future__ import annotations

import re

TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}", re.ASCII)
"""A tool's (and a JSON-mode schema's) name: OpenAI's and Workers AI's `^[a-zA-Z0-9_-]{1,64}$`
(OpenAI's API reference, `function.name`)."""

MAX_TOOLS = 128
"""OpenAI's limit on `tools` in one request (its API reference)."""

MAX_TOOL_CALLS = 1024
"""The most tool calls one reply may ask for. Not a provider's number but ours: a reply asking
for more is treated as malformed (the SDK runs none of them; the local gateway answers 502 for
an upstream's), so a hostile or broken upstream cannot start unbounded work."""

DATA_URL = re.compile(r"data:(?P<type>[\w.+-]+/[\w.+-]+)(?:;[\w=.+-]+)*;base64,", re.ASCII)
"""The head of an inline image: `data:<media type>[;param]*;base64,` (RFC 2397)."""

BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
"""Standard padded base64 (RFC 4648 section 4): an inline image's data."""

__all__ = ["BASE64", "DATA_URL", "MAX_TOOLS", "MAX_TOOL_CALLS", "TOOL_NAME"]
