"""The model search, `GET /client/v4/accounts/{account_id}/ai/models/search`, over the
built-in model's catalog (`upstreams.catalog`): filters, pages and Cloudflare's envelope."""

from __future__ import annotations

import math

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aigateway_sdk.contract.catalog import DEFAULT_PER_PAGE, FORMATS, MAX_PER_PAGE
from aigateway_sdk.local.controlplane.gateways import guarded
from aigateway_sdk.local.state import AppState
from aigateway_sdk.local.upstreams.catalog import SearchQuery, search
from aigateway_sdk.local.web.errors import ok
from aigateway_sdk.local.web.params import bad_param, int_param

SEARCH_ROUTE = "/client/v4/accounts/{account_id}/ai/models/search"
MAX_TEXT = 256
"""The longest `search`, `author` or `task` taken (ours)."""
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def _text(query: QueryParams, name: str) -> str:
    value = query.get(name) or ""
    if len(value) > MAX_TEXT:
        raise bad_param(name, f"must be at most {MAX_TEXT} characters")
    return value


def _flag(query: QueryParams, name: str) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return False
    value = _BOOLEANS.get(raw.lower())
    if value is None:
        raise bad_param(name, "must be true or false")
    return value


def _source(query: QueryParams) -> int | None:
    raw = query.get("source")
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise bad_param("source", "must be a number") from None
    if not math.isfinite(value) or not value.is_integer() or abs(value) > 1e9:
        raise bad_param("source", "must be a whole number")
    return int(value)


def _format(query: QueryParams) -> None:
    raw = query.get("format")
    if raw is None or raw == "":
        return
    if raw not in FORMATS:
        raise bad_param("format", "must be one of " + ", ".join(FORMATS))
    raise bad_param("format", f"{raw!r} is not served by the local gateway (Cloudflare's shape)")


def search_query(query: QueryParams) -> SearchQuery:
    """The filters of a search request; a bad one is a 400 naming it."""
    _format(query)
    _flag(query, "include_deprecated")  # checked; the catalog holds no deprecated model
    return SearchQuery(
        search=_text(query, "search"),
        author=_text(query, "author"),
        task=_text(query, "task"),
        source=_source(query),
        hide_experimental=_flag(query, "hide_experimental"),
    )


class ModelsApi:
    """The account-wide model search (any account sees the same built-in catalog)."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        return [Route(SEARCH_ROUTE, guarded(self.state, self.search), methods=["GET"])]

    async def search(self, request: Request) -> Response:
        query = request.query_params
        page = int_param(query, "page", 1, 1)
        per_page = int_param(query, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
        found = search(search_query(query))
        chunk = found[(page - 1) * per_page : page * per_page]
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(chunk),
            "total_count": len(found),
        }
        return ok([model.to_json() for model in chunk], info)


__all__ = ["SEARCH_ROUTE", "ModelsApi", "search_query"]
