"""What a model call asks for besides messages and parameters: the tools the model may call and
the shape its output must take. Wire-neutral values; each codec writes them in its API's shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

TOOL_CHOICES = frozenset(("auto", "none", "required"))
"""The tool choices every API names; any other value is the name of the one tool to call."""


@attrs.frozen(slots=True)
class ToolDefinition:
    """A tool as the model sees it: name, description and the JSON Schema of its arguments
    (an object schema)."""

    name: str
    description: str | None
    parameters: Mapping[str, Any] = attrs.field(repr=False)
    strict: bool = False
    """OpenAI's strict mode: the arguments are guaranteed to match `parameters`, which must
    then be in strict form (see `Schema.strict_json_schema`)."""


@attrs.frozen(slots=True)
class ToolsRequest:
    """The tools offered to one model call. `choice`: "auto" (the model decides), "none",
    "required" (it must call one), or a tool's name (it must call that one).
    `parallel`: OpenAI's `parallel_tool_calls` (None: the provider's default)."""

    definitions: tuple[ToolDefinition, ...]
    choice: str = "auto"
    parallel: bool | None = None


@attrs.frozen(slots=True)
class OutputFormat:
    """The JSON a reply must be: `schema` (a JSON Schema) named `name`, or any JSON object when
    `schema` is None. `strict`: OpenAI's strict structured outputs (schema in strict form)."""

    schema: Mapping[str, Any] | None = attrs.field(repr=False)
    name: str = "output"
    description: str | None = None
    strict: bool = False


__all__ = ["TOOL_CHOICES", "OutputFormat", "ToolDefinition", "ToolsRequest"]
