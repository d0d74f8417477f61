"""What a call builds from its schema is built once: a JSON Schema dict given to `Schema.of`
(as `generate_object(schema={...})` does on every call) is compiled once per distinct
document, and the output format sent for a schema is built once and read-only. A lone tool
call runs without a task group and still times out and cancels like the others."""

from __future__ import annotations

from typing import Any

import anyio
import attrs
import pytest

from aigateway_sdk import _json
from aigateway_sdk.codecs.openai_compat import OpenAICompatCodec
from aigateway_sdk.content import ToolCall
from aigateway_sdk.prompt import to_messages
from aigateway_sdk.schema import Schema, SchemaMismatch
from aigateway_sdk.structured import output_format
from aigateway_sdk.tools import Tool, Toolkit, run_tool_calls
from aigateway_sdk.validation import ValidationError


def document() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    }


def test_an_equal_json_schema_dict_gives_the_same_compiled_schema() -> None:
    first = Schema.of(document())
    assert Schema.of(document()) is first
    renamed = Schema.of(document(), name="forecast")
    assert renamed is not first
    assert renamed.name == "forecast"
    assert first.name == "output"


def test_changing_the_dict_afterwards_gives_a_new_schema_and_leaves_the_old_one_alone() -> None:
    spec = document()
    before = Schema.of(spec)
    spec["required"] = ["city", "days"]
    after = Schema.of(spec)
    assert after is not before
    assert before.decode({"city": "Paris"}) == {"city": "Paris"}
    with pytest.raises(SchemaMismatch):
        after.decode({"city": "Paris"})


def test_a_dict_that_is_not_json_is_still_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        Schema.of({"type": "object", "default": object()})


def test_the_output_format_is_built_once_and_cannot_be_changed() -> None:
    schema = Schema.of(document())
    output = output_format(schema)
    assert output_format(schema) is output
    assert output_format(schema, strict=True) is not output
    assert output.schema is not None
    with pytest.raises(TypeError):
        output.schema["type"] = "array"  # type: ignore[index]
    body = _json.loads(OpenAICompatCodec().encode("m", to_messages("hi"), {}, False, output=output))
    assert body["response_format"]["json_schema"]["schema"] == schema.json_schema


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_cancelling_the_caller_cancels_a_lone_running_handler() -> None:
    started = anyio.Event()
    saw_cancel = anyio.Event()

    async def handler(args: dict[str, str]) -> str:
        started.set()
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            saw_cancel.set()
            raise
        return "never"

    toolkit = Toolkit(Tool("lookup", parameters=document(), handler=handler))
    calls = [ToolCall.of("c1", "lookup", {"city": "Paris"})]
    async with anyio.create_task_group() as group:
        group.start_soon(run_tool_calls, toolkit, calls)
        with anyio.fail_after(10):
            await started.wait()
        group.cancel_scope.cancel()
    assert saw_cancel.is_set()


def test_a_cached_document_does_not_stand_in_for_one_written_the_same_way() -> None:
    """orjson writes NaN as null: `{"const": nan}` must not get the cached `{"const": null}`."""
    from aigateway_sdk import Schema, ValidationError

    assert Schema.of({"const": None}).errors(None) == ()
    with pytest.raises(ValidationError, match="not a JSON number"):
        Schema.of({"const": float("nan")})
    assert Schema.of({"enum": (1, 2)}).errors(2) == ()  # a tuple: checked as given


@attrs.frozen
class _Node:
    child: _Node | None = None


@attrs.frozen
class _Picky:
    n: int

    def __attrs_post_init__(self) -> None:
        if self.n == 13:
            raise RuntimeError("unlucky")


def test_a_value_nested_too_deeply_is_a_mismatch_not_a_recursion_error() -> None:
    from aigateway_sdk import Schema, SchemaMismatch

    deep: Any = None
    for _ in range(5000):
        deep = {"child": deep}
    schema = Schema.of(_Node)
    with pytest.raises(SchemaMismatch, match="nested too deeply"):
        schema.decode(deep)
    assert "nested too deeply" in str(schema.errors(deep)[0])


def test_a_class_refusing_the_value_is_a_mismatch_naming_why() -> None:
    from aigateway_sdk import Schema, SchemaMismatch

    schema = Schema.of(_Picky)
    assert schema.decode({"n": 12}) == _Picky(12)
    with pytest.raises(SchemaMismatch, match="RuntimeError: unlucky"):
        schema.decode({"n": 13})
    assert "unlucky" in str(schema.errors({"n": 13})[0])
