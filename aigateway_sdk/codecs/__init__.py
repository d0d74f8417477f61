"""Wire codecs, one per upstream API the gateway speaks: encode a request, decode a reply,
decode stream chunks. Codecs raise `ValueError`/`KeyError`/`TypeError` on a bad shape; the model
turns those into a `MalformedOutput` reason."""

from aigateway_sdk.codecs.base import Chunk, Codec, Decoded
from aigateway_sdk.codecs.openai_compat import OpenAICompatCodec
from aigateway_sdk.codecs.workers_ai import WorkersAiCodec

__all__ = ["Chunk", "Codec", "Decoded", "OpenAICompatCodec", "WorkersAiCodec"]
