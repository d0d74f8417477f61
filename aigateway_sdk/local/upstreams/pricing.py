"""What a request to a Workers AI model costs: Cloudflare's published per-token prices.

Source: https://developers.cloudflare.com/workers-ai/platform/pricing/ ("LLM model pricing" and
"Other model pricing", the dollar prices per million tokens; Workers AI bills in Neurons at
$0.011 per 1,000, and these dollar prices are Cloudflare's conversion). Copied as published;
prices change, so treat them as an approximation for local testing, not a bill. A model not in
the table (any other provider, or a Workers AI model priced per image or per audio minute) has
no price here: its requests cost 0 unless they carry `cf-aig-custom-cost`.
"""

from __future__ import annotations

import attrs

from aigateway_sdk.local.upstreams.router import is_workers_ai

PRICES_SOURCE = "https://developers.cloudflare.com/workers-ai/platform/pricing/"
PER_MILLION = 1_000_000


@attrs.frozen(slots=True)
class Price:
    """Dollars per million input and output tokens."""

    input: float
    output: float = 0.0

    def cost(self, tokens_in: int | None, tokens_out: int | None) -> float:
        return ((tokens_in or 0) * self.input + (tokens_out or 0) * self.output) / PER_MILLION


WORKERS_AI_PRICES: dict[str, Price] = {
    "@cf/meta/llama-3.2-1b-instruct": Price(0.027, 0.201),
    "@cf/meta/llama-3.2-3b-instruct": Price(0.051, 0.335),
    "@cf/meta/llama-3.1-8b-instruct-fp8-fast": Price(0.045, 0.384),
    "@cf/meta/llama-3.2-11b-vision-instruct": Price(0.049, 0.676),
    "@cf/meta/llama-3.1-70b-instruct-fp8-fast": Price(0.293, 2.253),
    "@cf/meta/llama-3.3-70b-instruct-fp8-fast": Price(0.293, 2.253),
    "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b": Price(0.497, 4.881),
    "@cf/mistral/mistral-7b-instruct-v0.1": Price(0.110, 0.190),
    "@cf/meta/llama-3.1-8b-instruct": Price(0.282, 0.827),
    "@cf/meta/llama-3.1-8b-instruct-fp8": Price(0.152, 0.287),
    "@cf/meta/llama-3.1-8b-instruct-awq": Price(0.123, 0.266),
    "@cf/meta/llama-3-8b-instruct": Price(0.282, 0.827),
    "@cf/meta/llama-3-8b-instruct-awq": Price(0.123, 0.266),
    "@cf/meta/llama-2-7b-chat-fp16": Price(0.556, 6.667),
    "@cf/huggingface/distilbert-sst-2-int8": Price(0.026),
    "@cf/baai/bge-small-en-v1.5": Price(0.020),
    "@cf/baai/bge-base-en-v1.5": Price(0.067),
    "@cf/baai/bge-large-en-v1.5": Price(0.204),
    "@cf/meta/m2m100-1.2b": Price(0.342, 0.342),
    # Not on the pricing page; the `price` property of the model's catalog entry:
    "@cf/openai/gpt-oss-20b": Price(0.2, 0.3),
    "@cf/baai/bge-m3": Price(0.0118),
}
"""Workers AI models priced per token, as the source lists them."""


def price_of(provider: str, model: str) -> Price | None:
    """The published price of `model` at `provider`, or None (no price known)."""
    return WORKERS_AI_PRICES.get(model) if is_workers_ai(provider) else None


__all__ = ["PRICES_SOURCE", "WORKERS_AI_PRICES", "Price", "price_of"]
