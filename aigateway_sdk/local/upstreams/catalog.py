"""The Workers AI models the built-in model answers for, as Workers AI's catalog lists them,
and the model search over them (`/ai/models/search`).

Each entry is a real Workers AI model: its `id` (a UUID), `name` (the model id), description,
task, creation time and properties as Cloudflare publishes them (cloudflare-docs,
`src/content/workers-ai-models/*.json`; properties abridged). With the default strictness an
`@cf/...` id that is not here, and that no upstream route names, is refused by the data plane
with Workers AI's "No such model" error (see `contract.catalog`).
"""

from __future__ import annotations

from typing import Any

import attrs

from aigateway_sdk.contract.catalog import (
    TASK_TEXT_EMBEDDINGS,
    TASK_TEXT_GENERATION,
    WORKERS_AI_MODEL_PREFIX,
)


@attrs.frozen(slots=True)
class Task:
    id: str
    name: str
    description: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "description": self.description}


@attrs.frozen(slots=True)
class Price:
    """One line of a model's `price` property."""

    unit: str
    price: float
    currency: str = "USD"

    def to_json(self) -> dict[str, Any]:
        return {"unit": self.unit, "price": self.price, "currency": self.currency}


PropertyValue = str | tuple[Price, ...]


@attrs.frozen(slots=True)
class CatalogModel:
    """One model of the catalog, in Workers AI's words."""

    id: str
    name: str
    description: str
    task: Task
    created_at: str | None = None
    properties: tuple[tuple[str, PropertyValue], ...] = ()
    tags: tuple[str, ...] = ()
    source: int = 1

    @property
    def author(self) -> str:
        """The second segment of the name (`meta` in `@cf/meta/llama-3.1-8b-instruct`)."""
        parts = self.name.split("/")
        return parts[1] if len(parts) > 2 else ""

    @property
    def experimental(self) -> bool:
        """A model marked `beta` (what `hide_experimental` hides; our reading)."""
        return dict(self.properties).get("beta") == "true"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "name": self.name,
            "description": self.description,
            "task": self.task.to_json(),
        }
        if self.created_at is not None:
            body["created_at"] = self.created_at
        body["tags"] = list(self.tags)
        body["properties"] = [
            {"property_id": key, "value": _value_json(value)}
            for key, value in (*self.properties, *_price_property(self.name))
        ]
        return body


def _price_property(name: str) -> tuple[tuple[str, PropertyValue], ...]:
    """The `price` property, from the one price table (`upstreams/pricing.py`)."""
    from aigateway_sdk.local.upstreams.pricing import WORKERS_AI_PRICES  # pricing imports router

    price = WORKERS_AI_PRICES.get(name)
    if price is None:
        return ()
    return (("price", _per_m(price.input, price.output or None)),)


def _value_json(value: PropertyValue) -> Any:
    return value if isinstance(value, str) else [price.to_json() for price in value]


TEXT_GENERATION = Task(
    "c329a1f9-323d-4e91-b2aa-582dd4188d34",
    TASK_TEXT_GENERATION,
    "Family of generative text models, such as large language models (LLM), that can be "
    "adapted for a variety of natural language tasks.",
)
TEXT_EMBEDDINGS = Task(
    "0137cdcf-162a-4108-94f2-1ca59e8c65ee",
    TASK_TEXT_EMBEDDINGS,
    "Feature extraction models transform raw data into numerical features that can be "
    "processed while preserving the information in the original dataset. These models are "
    "ideal as part of building vector search applications or Retrieval Augmented Generation "
    "workflows with Large Language Models (LLM).",
)


def _per_m(input_price: float, output_price: float | None = None) -> tuple[Price, ...]:
    prices: tuple[Price, ...] = (Price("per M input tokens", input_price),)
    if output_price is not None:
        prices += (Price("per M output tokens", output_price),)
    return prices


_LLAMA_TERMS = "https://github.com/meta-llama/llama-models/blob/main/models/{}/LICENSE"

BUILTIN_MODELS: tuple[CatalogModel, ...] = (
    CatalogModel(
        "41975cc2-c82e-4e98-b7b8-88ffb186a545",
        "@cf/meta/llama-3.1-8b-instruct",
        "The Meta Llama 3.1 collection of multilingual large language models (LLMs) is a "
        "collection of pretrained and instruction tuned generative models. The Llama 3.1 "
        "instruction tuned text only models are optimized for multilingual dialogue use cases "
        "and outperform many of the available open source and closed chat models on common "
        "industry benchmarks.",
        TEXT_GENERATION,
        properties=(("terms", _LLAMA_TERMS.format("llama3_1")),),
    ),
    CatalogModel(
        "d9dc8363-66f4-4bb0-8641-464ee7bfc131",
        "@cf/meta/llama-3.2-3b-instruct",
        "The Llama 3.2 instruction-tuned text only models are optimized for multilingual "
        "dialogue use cases, including agentic retrieval and summarization tasks.",
        TEXT_GENERATION,
        properties=(("terms", _LLAMA_TERMS.format("llama3_2")),),
    ),
    CatalogModel(
        "7a143886-c9bb-4a1c-be95-377b1973bc3b",
        "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
        "Llama 3.3 70B quantized to fp8 precision, optimized to be faster.",
        TEXT_GENERATION,
        "2024-12-06 17:09:18.338",
        (
            ("async_queue", "true"),
            ("context_window", "24000"),
            ("function_calling", "true"),
            ("terms", _LLAMA_TERMS.format("llama3_3")),
        ),
    ),
    CatalogModel(
        "188a4e1e-253e-46d0-9616-0bf8c149763f",
        "@cf/openai/gpt-oss-20b",
        "OpenAI's open-weight models designed for powerful reasoning, agentic tasks, and "
        "versatile developer use cases - gpt-oss-20b is for lower latency, and local or "
        "specialized use-cases.",
        TEXT_GENERATION,
        "2025-08-05 10:49:53.265",
        (
            ("context_window", "128000"),
            ("function_calling", "true"),
            ("reasoning", "true"),
        ),
    ),
    CatalogModel(
        "429b9e8b-d99e-44de-91ad-706cf8183658",
        "@cf/baai/bge-base-en-v1.5",
        "BAAI general embedding (Base) model that transforms any given text into a "
        "768-dimensional vector",
        TEXT_EMBEDDINGS,
        "2023-09-25 19:21:11.898",
        (
            ("async_queue", "true"),
            ("info", "https://huggingface.co/BAAI/bge-base-en-v1.5"),
            ("max_input_tokens", "512"),
            ("output_dimensions", "768"),
        ),
    ),
    CatalogModel(
        "57fbd08a-a4c4-411c-910d-b9459ff36c20",
        "@cf/baai/bge-small-en-v1.5",
        "BAAI general embedding (Small) model that transforms any given text into a "
        "384-dimensional vector",
        TEXT_EMBEDDINGS,
        "2023-11-07 15:43:58.042",
        (
            ("async_queue", "true"),
            ("max_input_tokens", "512"),
            ("output_dimensions", "384"),
        ),
    ),
    CatalogModel(
        "01bc2fb0-4bca-4598-b985-d2584a3f46c0",
        "@cf/baai/bge-large-en-v1.5",
        "BAAI general embedding (Large) model that transforms any given text into a "
        "1024-dimensional vector",
        TEXT_EMBEDDINGS,
        "2023-11-07 15:43:58.042",
        (
            ("async_queue", "true"),
            ("info", "https://huggingface.co/BAAI/bge-large-en-v1.5"),
            ("max_input_tokens", "512"),
            ("output_dimensions", "1024"),
        ),
    ),
    CatalogModel(
        "eed32bc1-8775-4985-89ce-dd1405508ad8",
        "@cf/baai/bge-m3",
        "Multi-Functionality, Multi-Linguality, and Multi-Granularity embeddings model.",
        TEXT_EMBEDDINGS,
        "2024-05-22 19:27:09.781",
        (("context_window", "60000"),),
    ),
)

_BY_NAME = {model.name: model for model in BUILTIN_MODELS}


def find(name: str) -> CatalogModel | None:
    """The catalog's model named `name` (the model id, exactly), or None."""
    return _BY_NAME.get(name)


def is_unknown_workers_ai_model(name: str) -> bool:
    """An `@cf/...` id the catalog does not list (what Workers AI answers 5007 for)."""
    return name.startswith(WORKERS_AI_MODEL_PREFIX) and name not in _BY_NAME


@attrs.frozen(slots=True)
class SearchQuery:
    """The filters of a model search (all optional; text matches ignore case)."""

    search: str = ""
    """In the name or the description."""
    author: str = ""
    """The name's author segment, exactly (`meta`)."""
    task: str = ""
    """The task's name (`Text Generation`) or id, exactly."""
    source: int | None = None
    hide_experimental: bool = False

    def matches(self, model: CatalogModel) -> bool:
        search = self.search.casefold()
        if search and search not in f"{model.name}\n{model.description}".casefold():
            return False
        if self.author and self.author.casefold() != model.author.casefold():
            return False
        task = self.task.casefold()
        if task and task not in (model.task.name.casefold(), model.task.id):
            return False
        if self.source is not None and self.source != model.source:
            return False
        return not (self.hide_experimental and model.experimental)


def search(query: SearchQuery) -> list[CatalogModel]:
    """The catalog's models matching `query`, in catalog order."""
    return [model for model in BUILTIN_MODELS if query.matches(model)]


__all__ = [
    "BUILTIN_MODELS",
    "CatalogModel",
    "Price",
    "SearchQuery",
    "Task",
    "find",
    "is_unknown_workers_ai_model",
    "search",
]
