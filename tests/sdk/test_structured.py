"""`generate_object` over the test fake: decoding, the repair loop, and what a failure keeps;
and the fake's tool loop, which every model shares (`aigateway_sdk.calls`)."""

from __future__ import annotations

from typing import Annotated, Any

import attrs
import pytest

from aigateway_sdk import (
    AiError,
    Constraints,
    InvalidOutput,
    InvalidRequest,
    ToolCall,
    Toolkit,
    ValidationError,
    tool,
)
from aigateway_sdk.response import GenerateTextResponse, InputTokens, OutputTokens, Usage
from aigateway_sdk.testing import FakeLanguageModel, tool_calls_reply

pytestmark = pytest.mark.anyio


@attrs.frozen
class Invoice:
    """An invoice."""

    number: str
    total: Annotated[float, Constraints(minimum=0)]
    lines: list[str]


VALID = '{"number": "A-1", "total": 12.5, "lines": ["tea"]}'


async def test_a_valid_reply_decodes_to_the_type() -> None:
    fake = FakeLanguageModel(VALID)
    response = await fake.generate_object("Extract the invoice.", schema=Invoice)
    assert response.value == Invoice("A-1", 12.5, ["tea"])
    assert response.text == VALID
    assert response.attempts == 1
    (call,) = fake.calls
    assert call.output is not None
    assert call.output.name == "Invoice"
    assert call.output.schema is not None
    assert call.output.schema["required"] == ["number", "total", "lines"]
    assert call.tools is None


async def test_a_fenced_reply_is_read() -> None:
    fake = FakeLanguageModel(f"```json\n{VALID}\n```")
    assert (await fake.generate_object("x", schema=Invoice)).value.number == "A-1"


async def test_a_mismatch_names_every_failing_path_and_keeps_the_reply() -> None:
    bad = '{"number": 7, "total": -1, "lines": ["a", 2]}'
    fake = FakeLanguageModel(bad)
    with pytest.raises(AiError) as caught:
        await fake.generate_object("x", schema=Invoice)
    reason = caught.value.reason
    assert isinstance(reason, InvalidOutput)
    paths = {detail.path for detail in reason.details}
    assert paths == {("number",), ("total",), ("lines", "1")}
    assert reason.text == bad
    assert len(reason.steps) == 1
    assert reason.steps[0].text == bad
    assert "does not match the schema" in reason.message
    assert not caught.value.is_retryable


async def test_a_reply_that_is_not_json_is_invalid_output() -> None:
    fake = FakeLanguageModel("Sure! Here is the invoice: number A-1.")
    with pytest.raises(AiError) as caught:
        await fake.generate_object("x", schema=Invoice)
    assert isinstance(caught.value.reason, InvalidOutput)
    assert "not JSON" in caught.value.message


async def test_a_reply_cut_at_max_tokens_says_so() -> None:
    cut = GenerateTextResponse(text='{"number": "A-', finish_reason="length", model="fake")
    with pytest.raises(AiError, match="cut at max_tokens"):
        await FakeLanguageModel(script=[cut]).generate_object("x", schema=Invoice)


async def test_repairs_show_the_model_its_errors_and_ask_again() -> None:
    usage = Usage(InputTokens(10), OutputTokens(5))
    first = GenerateTextResponse(text='{"number": "A-1"}', usage=usage, model="fake")
    second = GenerateTextResponse(text=VALID, usage=usage, model="fake")
    fake = FakeLanguageModel(script=[first, second])
    response = await fake.generate_object("Extract.", schema=Invoice, repairs=2)
    assert response.value.total == 12.5
    assert response.attempts == 2
    assert response.usage == Usage(InputTokens(20), OutputTokens(10))  # both calls
    retry = fake.calls[1].prompt
    assert [m.role for m in retry] == ["user", "assistant", "user"]
    assert retry[1].text == '{"number": "A-1"}'
    assert "$.total: is required" in retry[2].text
    assert "$.lines: is required" in retry[2].text


async def test_repairs_run_out_into_invalid_output_with_every_attempt() -> None:
    fake = FakeLanguageModel(script=["nope", '{"number": 1}', "{}"])
    with pytest.raises(AiError) as caught:
        await fake.generate_object("x", schema=Invoice, repairs=2)
    reason = caught.value.reason
    assert isinstance(reason, InvalidOutput)
    assert [s.text for s in reason.steps] == ["nope", '{"number": 1}', "{}"]
    assert "after 3 attempts" in reason.message
    assert len(fake.calls) == 3


async def test_strict_asks_for_the_strict_schema() -> None:
    fake = FakeLanguageModel(VALID)
    await fake.generate_object("x", schema=Invoice, strict=True)
    output = fake.calls[0].output
    assert output is not None
    assert output.strict
    assert output.schema is not None
    assert output.schema["additionalProperties"] is False


async def test_bad_settings_and_prompts_are_refused() -> None:
    fake = FakeLanguageModel(VALID)
    with pytest.raises(ValidationError, match="repairs"):
        fake.generate_object("x", schema=Invoice, repairs=11)
    with pytest.raises(ValidationError):
        fake.generate_object("x", schema=lambda: None)  # type: ignore[arg-type]
    with pytest.raises(AiError) as caught:
        await fake.generate_object("  ", schema=Invoice)
    assert isinstance(caught.value.reason, InvalidRequest)
    assert fake.calls == []


# -- the tool loop every model shares ----------------------------------------------------------


@tool
async def lookup(sku: str) -> dict[str, Any]:
    """Stock of a product."""
    return {"sku": sku, "stock": 3}


async def test_a_forced_tool_choice_applies_to_the_first_call_only() -> None:
    fake = FakeLanguageModel(
        script=[tool_calls_reply(ToolCall.of("c1", "lookup", {"sku": "X"})), "3 in stock."]
    )
    response = await fake.generate_text(
        "Stock of X?", toolkit=Toolkit(lookup), tool_choice="lookup"
    )
    assert response.text == "3 in stock."
    first, second = fake.calls
    assert first.tools is not None
    assert second.tools is not None
    assert first.tools.choice == "lookup"
    assert second.tools.choice == "auto"  # forced again, the model could never answer
    assert [m.role for m in second.prompt] == ["user", "assistant", "tool"]
    assert second.prompt[2].tool_call_id == "c1"
    assert second.prompt[2].text == '{"sku":"X","stock":3}'


async def test_tool_choice_none_stays_none() -> None:
    fake = FakeLanguageModel("no tools")
    await fake.generate_text("x", toolkit=Toolkit(lookup), tool_choice="none")
    assert fake.calls[0].tools is not None
    assert fake.calls[0].tools.choice == "none"


async def test_the_fake_streams_a_scripted_tool_loop() -> None:
    fake = FakeLanguageModel(
        script=[tool_calls_reply(ToolCall.of("c1", "lookup", {"sku": "X"})), "3 in stock."]
    )
    collected = await fake.stream_text("Stock?", toolkit=Toolkit(lookup)).collect()
    assert collected.text == "3 in stock."
    assert len(collected.steps) == 2
    assert collected.steps[0].tool_results[0].value == {"sku": "X", "stock": 3}


async def test_a_one_call_loop_has_its_step_streamed_or_not() -> None:
    """With a toolkit, `steps` has one entry per model call even when the model answered at
    once; `stream_text(...).collect()` gives what `generate_text` gives."""
    whole = await FakeLanguageModel("done").generate_text("x", toolkit=Toolkit(lookup))
    streamed = await FakeLanguageModel("done").stream_text("x", toolkit=Toolkit(lookup)).collect()
    assert len(whole.steps) == len(streamed.steps) == 1
    assert whole.steps[0].text == streamed.steps[0].text == "done"
    plain = await FakeLanguageModel("done").stream_text("x").collect()
    assert plain.steps == ()


# -- what a first user ran into -----------------------------------------------------------------


def test_a_function_without_a_usable_name_takes_the_given_one() -> None:
    from aigateway_sdk import Tool

    ping = Tool.from_function(lambda: "pong", name="ping", description="Ping.")
    assert ping.name == "ping"
    assert ping.definition().parameters["properties"] == {}


def test_a_partial_is_described_by_its_function_without_the_bound_keywords() -> None:
    import functools

    from aigateway_sdk import Tool

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    inc = Tool.from_function(functools.partial(add, b=1), name="inc")
    assert inc.description == "Add two numbers."
    assert list(inc.definition().parameters["properties"]) == ["a"]


async def test_a_result_you_ran_yourself_goes_back_with_tool_result_of() -> None:
    from aigateway_sdk import Message, ToolResult

    call = ToolCall.of("c1", "lookup", {"sku": "X"})
    result = ToolResult.of(call, {"stock": 3})
    assert (result.call_id, result.name, result.content) == ("c1", "lookup", '{"stock":3}')
    assert Message.tool(ToolResult.of(call, "none left")).text == "none left"
    with pytest.raises(ValidationError, match="value"):
        ToolResult.of(call, object())
    fake = FakeLanguageModel("ok")
    await fake.generate_text(
        [Message.user("Stock?"), Message.assistant("", [call]), Message.tool(result)]
    )
    assert fake.calls[0].prompt[2].tool_call_id == "c1"


async def test_one_message_alone_is_a_prompt() -> None:
    from aigateway_sdk import ImagePart, Message

    fake = FakeLanguageModel("a cat")
    image = ImagePart.from_bytes(b"\x89PNG...", "image/png")
    await fake.generate_text(Message.user("What is this?", image))
    await fake.generate_text({"role": "user", "content": "hi"})
    assert [len(c.prompt) for c in fake.calls] == [1, 1]
    assert fake.calls[0].prompt[0].images == (image,)


def test_a_bad_tool_choice_lists_the_tools_and_a_bad_scripted_call_is_named() -> None:
    with pytest.raises(ValidationError, match="the tools are: lookup"):
        FakeLanguageModel().generate_text("x", toolkit=Toolkit(lookup), tool_choice="nope")
    with pytest.raises(TypeError, match="ToolCall"):
        tool_calls_reply(("lookup", {"sku": "X"}))  # type: ignore[arg-type]
