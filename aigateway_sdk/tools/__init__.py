"""Tools a model may call: `Tool` (a name, a description and the JSON Schema of its arguments,
with an optional handler), `Toolkit` (tools with their handlers, provided through the
container), `run_tool_calls` (run a model's calls concurrently) and the tool loop over any model
call (`run_tool_loop`, `stream_tool_loop`).

    tool.py     Tool, @tool
    toolkit.py  Toolkit: definitions, handlers, the container provider
    run.py      checking and running tool calls; failures as reasons or error results
    encode.py   a handler's return value as the text sent back to the model
    loop.py     the tool loop, plain and streamed
    steps.py    reading a streamed step back
"""

from __future__ import annotations

from aigateway_sdk.tools.definition import Handler, Tool, tool
from aigateway_sdk.tools.loop import (
    StepCall,
    StepStream,
    collect_tool_loop,
    run_tool_loop,
    stream_tool_loop,
)
from aigateway_sdk.tools.run import OnError, ToolError, run_tool_calls
from aigateway_sdk.tools.toolkit import Toolkit

__all__ = [
    "Handler",
    "OnError",
    "StepCall",
    "StepStream",
    "Tool",
    "ToolError",
    "Toolkit",
    "collect_tool_loop",
    "run_tool_calls",
    "run_tool_loop",
    "stream_tool_loop",
    "tool",
]
