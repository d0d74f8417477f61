"""Workers AI's model catalog: `ModelInfo` values and `ModelCatalog`, the paged model search
(`GET /accounts/{account_id}/ai/models/search`) with the account's API token.

    async with ModelCatalog(account_id, api_token) as catalog:
        async for model in catalog.search(task="Text Generation", author="meta"):
            print(model.name, model.context_window)

`GatewayBinding.models(...)` runs the same search with the binding's token and client. The
local gateway answers it for its built-in models (`aigateway models` on the command line).
This module is part of the core: it uses the data plane's transport (one error map, one retry
helper) and never imports the control plane.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import attrs
import httpx

from aigateway_sdk import _json
from aigateway_sdk._decode import Reader, malformed
from aigateway_sdk.contract.catalog import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    MODELS_SEARCH_PATH,
    NO_SUCH_MODEL_CODE,
    NO_SUCH_MODEL_STATUS,
    no_such_model_message,
)
from aigateway_sdk.errors import AiError, UnknownModel
from aigateway_sdk.transport.client import AsyncClosing, LazyClient
from aigateway_sdk.transport.failures import reason_from_body
from aigateway_sdk.transport.http import DEFAULT_MAX_RESPONSE_BYTES, request_json
from aigateway_sdk.transport.retry import DEFAULT_RETRY, RetryPolicy
from aigateway_sdk.validation import FieldError, ValidationError

API_BASE_URL = "https://api.cloudflare.com/client/v4"
MAX_QUERY_CHARS = 256
"""The longest `search`, `task` or `author` text sent."""


@attrs.frozen(slots=True)
class ModelTask:
    """What a model does: `name` is what the `task` filter takes (`Text Generation`,
    `Text Embeddings`); `id` is Cloudflare's UUID for it."""

    id: str
    name: str
    description: str = ""


@attrs.frozen(slots=True)
class ModelPrice:
    """One line of a model's `price` property (`0.29` USD `per M input tokens`)."""

    unit: str
    price: float
    currency: str


@attrs.frozen(slots=True)
class ModelProperty:
    """One of a model's `properties`: `value` is its text (`"24000"` for `context_window`),
    or the price lines for `price`; any other structured value is kept as compact JSON."""

    property_id: str
    value: str | tuple[ModelPrice, ...]


@attrs.frozen(slots=True)
class ModelInfo:
    """A Workers AI model as the catalog describes it.

    `name` is the model id to call (`@cf/meta/llama-3.1-8b-instruct`); `id` is Cloudflare's
    UUID of the catalog entry (Cloudflare's own naming). `created_at` is UTC, when given.
    """

    id: str
    name: str
    description: str = ""
    task: ModelTask | None = None
    source: int | None = None
    created_at: datetime | None = None
    tags: tuple[str, ...] = ()
    properties: tuple[ModelProperty, ...] = ()

    @property
    def author(self) -> str:
        """The id's author segment (`meta` in `@cf/meta/llama-3.1-8b-instruct`), or ""."""
        parts = self.name.split("/")
        return parts[1] if len(parts) > 2 else ""

    def property_value(self, property_id: str) -> str | tuple[ModelPrice, ...] | None:
        """The value of the property `property_id`, or None when the model has none."""
        return next((p.value for p in self.properties if p.property_id == property_id), None)

    def _number(self, property_id: str) -> int | None:
        value = self.property_value(property_id)
        return int(value) if isinstance(value, str) and value.isdigit() else None

    @property
    def context_window(self) -> int | None:
        """Tokens the model reads at most (`context_window`), when the catalog says."""
        return self._number("context_window")

    @property
    def function_calling(self) -> bool:
        """Whether the catalog marks the model as calling tools (`function_calling`)."""
        return self.property_value("function_calling") == "true"

    @property
    def prices(self) -> tuple[ModelPrice, ...]:
        value = self.property_value("price")
        return value if isinstance(value, tuple) else ()

    def to_json(self) -> dict[str, Any]:
        """Cloudflare's shape (snake_case), `created_at` as ISO 8601."""
        return {
            "id": self.id,
            "source": self.source,
            "name": self.name,
            "description": self.description,
            "task": attrs.asdict(self.task) if self.task is not None else None,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "tags": list(self.tags),
            "properties": [
                {"property_id": p.property_id, "value": _property_json(p.value)}
                for p in self.properties
            ],
        }

    @classmethod
    def from_json(cls, body: object) -> ModelInfo:
        """A model object of the search reply; `AiError(MalformedOutput)` naming the field
        when it is not as documented. Unknown fields are ignored."""
        read = Reader(body, "model")
        task = read.body.get("task")
        return cls(
            id=read.text("id"),
            name=read.text("name"),
            description=read.opt_text("description") or "",
            task=_task(task) if task is not None else None,
            source=read.opt_int("source"),
            created_at=read.opt_utc_time("created_at"),
            tags=read.texts("tags"),
            properties=_properties(read, "properties"),
        )


def _property_json(value: str | tuple[ModelPrice, ...]) -> Any:
    return value if isinstance(value, str) else [attrs.asdict(price) for price in value]


def _task(body: object) -> ModelTask:
    read = Reader(body, "model task")
    return ModelTask(read.text("id"), read.text("name"), read.opt_text("description") or "")


def _properties(read: Reader, key: str) -> tuple[ModelProperty, ...]:
    found = []
    for item in read.opt_list(key):
        prop = Reader(item, "model property")
        found.append(ModelProperty(prop.text("property_id"), _value(prop.body.get("value"))))
    return tuple(found)


def _value(value: object) -> str | tuple[ModelPrice, ...]:
    """A property's value: text as is, a list of price objects as prices, else JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(_is_price(v) for v in value):
        return tuple(ModelPrice(v["unit"], float(v["price"]), v["currency"]) for v in value)
    return _json.dumps_str(value)


def _is_price(value: object) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("unit"), str)
        and isinstance(value.get("currency"), str)
        and isinstance(value.get("price"), int | float)
        and not isinstance(value.get("price"), bool)
    )


@attrs.frozen(slots=True)
class ModelQuery:
    """The filters of a search, checked when built (`ValidationError` naming each bad one)."""

    search: str | None = None
    task: str | None = None
    author: str | None = None
    source: int | None = None
    hide_experimental: bool | None = None
    include_deprecated: bool | None = None
    per_page: int = DEFAULT_PER_PAGE

    def __attrs_post_init__(self) -> None:
        problems = [
            FieldError((name,), problem)
            for name in ("search", "task", "author")
            if (problem := _text_problem(getattr(self, name))) is not None
        ]
        for name in ("hide_experimental", "include_deprecated"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), bool):
                problems.append(FieldError((name,), "must be true or false"))
        if self.source is not None and not _is_int(self.source):
            problems.append(FieldError(("source",), "must be an integer"))
        if not _is_int(self.per_page) or not 1 <= self.per_page <= MAX_PER_PAGE:
            problems.append(
                FieldError(("per_page",), f"must be an integer from 1 to {MAX_PER_PAGE}")
            )
        if problems:
            raise ValidationError(problems, what="model search")

    def params(self, page: int) -> dict[str, str | int]:
        """The query string of page number `page` (filters left out when not given)."""
        pairs: dict[str, str | int] = {
            name: value
            for name in ("search", "task", "author", "source")
            if (value := getattr(self, name)) is not None
        }
        for name in ("hide_experimental", "include_deprecated"):
            flag = getattr(self, name)
            if flag is not None:
                pairs[name] = "true" if flag else "false"
        return {**pairs, "page": page, "per_page": self.per_page}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text_problem(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > MAX_QUERY_CHARS:
        return f"must be at most {MAX_QUERY_CHARS} characters"
    if any(c in value for c in "\r\n\0"):
        return "must be one line"
    return None


def search_url(api_base_url: str, account_id: str) -> str:
    """The model search URL of an account under an API base URL."""
    path = MODELS_SEARCH_PATH.format(account_id=quote(account_id, safe=""))
    return api_base_url.rstrip("/") + path


async def search_pages(
    client: Callable[[], httpx.AsyncClient],
    url: str,
    api_token: str,
    query: ModelQuery,
    *,
    retry: RetryPolicy = DEFAULT_RETRY,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> AsyncIterator[ModelInfo]:
    """Every model the search finds, page after page as the caller iterates; `client` is
    asked for the HTTP client at each request. `AiError` on any failure."""
    headers = {"authorization": f"Bearer {api_token}", "accept": "application/json"}
    page, seen = 1, 0
    while True:
        reply = await request_json(
            client(),
            "GET",
            url,
            headers=headers,
            params=query.params(page),
            retry=retry,
            max_response_bytes=max_response_bytes,
        )
        items, total = _page(reply.body, reply.status, reply.headers)
        for item in items:
            yield ModelInfo.from_json(item)
        seen += len(items)
        if len(items) < query.per_page or (total is not None and seen >= total):
            return
        page += 1


def _page(body: object, status: int, headers: httpx.Headers) -> tuple[list[Any], int | None]:
    """The models of one reply and the `total_count` it announces."""
    if not isinstance(body, dict):
        raise malformed("reply", f"expected an envelope object, got {type(body).__name__}")
    if body.get("success") is False:
        raise AiError(reason_from_body(status, headers, body, fallback="success: false"))
    items = body.get("result")
    if not isinstance(items, list):
        raise malformed("model search", f"expected a list, got {type(items).__name__}")
    info = body.get("result_info")
    total = info.get("total_count") if isinstance(info, dict) else None
    return items, total if _is_int(total) else None


def unknown_model(name: str) -> AiError:
    """The `UnknownModel` failure for a model id the catalog does not list."""
    message = no_such_model_message(name)
    reason = UnknownModel(
        message=message, status=NO_SUCH_MODEL_STATUS, code=NO_SUCH_MODEL_CODE, model=name
    )
    return AiError(reason)


class ModelCatalog(AsyncClosing):
    """The Workers AI model search of one account.

    **Parameters:** `account_id`, `api_token` (a token with Workers AI Read), `base_url` (the
    API, default `API_BASE_URL`; `http://127.0.0.1:8787/client/v4` for the local gateway),
    `client` (an `httpx.AsyncClient` of yours, never closed here), `retry`, `timeout`
    (seconds). Nothing is sent until a search is iterated; bad arguments raise
    `ValidationError` when built.
    """

    def __init__(
        self,
        account_id: str,
        api_token: str,
        base_url: str = API_BASE_URL,
        *,
        client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = 30.0,
    ) -> None:
        problems = [
            FieldError((name,), "is required and must be one line")
            for name, value in (("account_id", account_id), ("api_token", api_token))
            if not isinstance(value, str) or not value.strip() or _text_problem(value)
        ]
        if problems:
            raise ValidationError(problems, what="model catalog")
        self.account_id = account_id
        self.url = search_url(base_url, account_id)
        self.retry = DEFAULT_RETRY if retry is None else retry
        self._token = api_token
        self._clients = LazyClient(client, timeout=timeout)

    def search(
        self,
        search: str | None = None,
        *,
        task: str | None = None,
        author: str | None = None,
        source: int | None = None,
        hide_experimental: bool | None = None,
        include_deprecated: bool | None = None,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> AsyncIterator[ModelInfo]:
        """Every model matching the filters (`search` in the name or description, `task` by
        name, `author` as in the id), fetched page by page as you iterate."""
        query = ModelQuery(
            search, task, author, source, hide_experimental, include_deprecated, per_page
        )
        return search_pages(self._clients.get, self.url, self._token, query, retry=self.retry)

    async def get(self, name: str) -> ModelInfo:
        """The model whose id is `name` exactly; `AiError(UnknownModel)` when the catalog has
        none (the check to run before deploying a model id)."""
        async for model in self.search(name):
            if model.name == name:
                return model
        raise unknown_model(name)

    async def aclose(self) -> None:
        """Close the HTTP client if this catalog opened it (a later search opens a new one)."""
        await self._clients.aclose()

    def __repr__(self) -> str:
        return f"ModelCatalog(account_id={self.account_id!r}, url={self.url!r}, api_token=***)"


__all__ = [
    "API_BASE_URL",
    "ModelCatalog",
    "ModelInfo",
    "ModelPrice",
    "ModelProperty",
    "ModelQuery",
    "ModelTask",
    "search_pages",
    "search_url",
    "unknown_model",
]
