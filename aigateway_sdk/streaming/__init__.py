"""The stream pipeline of `stream_text`, one small part per concern, each tested without I/O:

    open_stream (transport/http.py)     send, retry until a 2xx, within the deadline
    ChunkReader (chunks.py)             body chunks; the deadline and transport errors
    SseParts (sse_parts.py)             bytes -> SSE events (transport/sse.py)
                                        -> codec.decode_event: chunk, end marker or failure
                                        -> StreamAssembler (assembler.py): the parts, and
                                           whether the stream was complete
    Deadline (deadline.py)              `total_timeout`, the same for generate_text and
                                        stream_text

`GatewayLanguageModel._stream` only connects them. A reply that came as one JSON body instead
of a stream goes through the same assembler (`StreamAssembler.whole`).
"""

from aigateway_sdk.streaming.assembler import StreamAssembler
from aigateway_sdk.streaming.chunks import ChunkReader
from aigateway_sdk.streaming.deadline import Deadline, deadline_at
from aigateway_sdk.streaming.sse_parts import SseParts

__all__ = ["ChunkReader", "Deadline", "SseParts", "StreamAssembler", "deadline_at"]
