"""Wire codecs, one per upstream API the gateway speaks: encode a request, decode a reply,
decode stream events, choose the request's credential. Codecs raise
`ValueError`/`KeyError`/`TypeError` on a bad shape; the model turns those into a
`MalformedOutput` reason.

A route name picks the codec (`codec_for`); the routes live here and nowhere else."""

from typing import Literal

from aigateway_sdk.codecs.base import WORKERS_AI, Chunk, Codec, Decoded, ToolCallChunk
from aigateway_sdk.codecs.openai_compat import OpenAICompatCodec
from aigateway_sdk.codecs.workers_ai import WorkersAiCodec

Route = Literal["workers-ai", "compat", "workers-ai-openai"]
"""`workers-ai`: native Workers AI API; `compat`: the OpenAI-compatible `compat` endpoint with
`provider/model` ids; `workers-ai-openai`: Workers AI's own `/v1/chat/completions`."""

ROUTES: tuple[Route, ...] = ("workers-ai", "compat", "workers-ai-openai")


def route_for(model: str) -> Route:
    """`@cf/...` and `@hf/...` ids go to Workers AI; `provider/model` ids to `compat`."""
    return "workers-ai" if model.startswith("@") else "compat"


def codec_for(route: Route) -> Codec:
    """The codec of a route."""
    if route == "workers-ai":
        return WorkersAiCodec()
    if route == "compat":
        return OpenAICompatCodec()
    return OpenAICompatCodec("workers-ai/v1/chat/completions", provider=WORKERS_AI)


__all__ = [
    "ROUTES",
    "Chunk",
    "Codec",
    "Decoded",
    "OpenAICompatCodec",
    "Route",
    "ToolCallChunk",
    "WorkersAiCodec",
    "codec_for",
    "route_for",
]
