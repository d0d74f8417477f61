"""The control plane for logs: `/client/v4/accounts/{account_id}/ai-gateway/gateways/{id}/logs`.

Reads and writes run as jobs on the store's writer thread, after every log queued before them.
"""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aigateway_sdk.contract.headers import BODY_TRUNCATED
from aigateway_sdk.contract.logs import DIRECTIONS, ORDER_BY, feedback_problem, score_problem
from aigateway_sdk.local.controlplane.gateways import MAX_PER_PAGE, PREFIX, guarded
from aigateway_sdk.local.controlplane.logfilters import parse_filters
from aigateway_sdk.local.dataplane.headers import check_metadata
from aigateway_sdk.local.state import AppState
from aigateway_sdk.local.storage.gateways import LiveGateway
from aigateway_sdk.local.storage.logsql import FilterError
from aigateway_sdk.local.storage.records import LogDeletion, LogPatch, LogQuery, LogRecord
from aigateway_sdk.local.web.body import read_json
from aigateway_sdk.local.web.errors import ApiError, ok
from aigateway_sdk.local.web.params import bad_param, choice_param, int_param
from aigateway_sdk.validation import FieldError


class LogsApi:
    def __init__(self, state: AppState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        base = PREFIX + "/gateways/{gateway_id}/logs"
        g = self._guard
        return [
            Route(base, g(self.list_logs), methods=["GET"]),
            Route(base, g(self.delete_logs), methods=["DELETE"]),
            Route(base + "/{log_id}", g(self.get_log), methods=["GET"]),
            Route(base + "/{log_id}", g(self.patch_log), methods=["PATCH"]),
            Route(base + "/{log_id}/request", g(self.log_request), methods=["GET"]),
            Route(base + "/{log_id}/response", g(self.log_response), methods=["GET"]),
        ]

    def _guard(self, handler: Any) -> Any:
        return guarded(self.state, handler)

    def _gateway(self, request: Request) -> LiveGateway:
        params = request.path_params
        return self.state.control_gateway(params["account_id"], params["gateway_id"])

    async def list_logs(self, request: Request) -> Response:
        live = self._gateway(request)
        query = request.query_params
        log_query = LogQuery(
            page=int_param(query, "page", 1, 1),
            per_page=int_param(query, "per_page", 20, 1, MAX_PER_PAGE),
            search=query.get("search") or None,
            order_by=choice_param(query, ("order_by",), "created_at", ORDER_BY),
            direction=choice_param(  # type: ignore[arg-type]
                query, ("order_by_direction", "direction"), "desc", DIRECTIONS
            ),
            filters=parse_filters(query),
        )
        try:
            job = self.state.store.list_logs(*live.scope, log_query)
        except FilterError as error:
            raise bad_param("filters", str(error)) from None
        logs, total = await self.state.store.call(job)
        info = {
            "page": log_query.page,
            "per_page": log_query.per_page,
            "count": len(logs),
            "total_count": total,
            "total_pages": max(1, math.ceil(total / log_query.per_page)),
        }
        return ok([log.to_json() for log in logs], info)

    async def _one(self, request: Request) -> LogRecord:
        live = self._gateway(request)
        log_id = request.path_params["log_id"]
        record = await self.state.store.call(self.state.store.get_log(*live.scope, log_id))
        if record is None:
            raise ApiError.not_found(f"Log {log_id!r}")
        return record

    async def get_log(self, request: Request) -> Response:
        return ok((await self._one(request)).to_json(detail=True))

    async def log_request(self, request: Request) -> Response:
        record = await self._one(request)
        return _body_response(
            record.request_body, record.request_content_type, record.request_truncated
        )

    async def log_response(self, request: Request) -> Response:
        record = await self._one(request)
        return _body_response(
            record.response_body, record.response_content_type, record.response_truncated
        )

    async def patch_log(self, request: Request) -> Response:
        live = self._gateway(request)
        body = await read_json(request, self.state.config.max_body_bytes)
        if not isinstance(body, dict):
            raise ApiError.invalid([FieldError(("body",), "must be a JSON object")])
        patch = _patch(body)
        log_id = request.path_params["log_id"]
        found = await self.state.store.call(self.state.store.patch_log(*live.scope, log_id, patch))
        if not found:
            raise ApiError.not_found(f"Log {log_id!r}")
        return ok({})

    async def delete_logs(self, request: Request) -> Response:
        live = self._gateway(request)
        query = request.query_params
        limit = query.get("limit")
        deletion = LogDeletion(
            filters=parse_filters(query),
            limit=None if limit is None else int_param(query, "limit", 0, 1),
            order_by=choice_param(query, ("order_by",), "created_at", ORDER_BY),
            direction=choice_param(  # type: ignore[arg-type]
                query, ("order_by_direction", "direction"), "asc", DIRECTIONS
            ),
        )
        try:
            job = self.state.store.delete_logs(*live.scope, deletion)
        except FilterError as error:
            raise bad_param("filters", str(error)) from None
        deleted = await self.state.store.call(job)
        return ok({"success": True, "deleted": deleted})


def _body_response(body: bytes, content_type: str | None, truncated: bool) -> Response:
    headers = {BODY_TRUNCATED: "true"} if truncated else {}
    return Response(body, media_type=content_type or "application/octet-stream", headers=headers)


def _patch(body: dict[str, Any]) -> LogPatch:
    feedback = body.get("feedback")
    score = body.get("score")
    checks = (("feedback", feedback, feedback_problem), ("score", score, score_problem))
    for name, value, check in checks:
        if value is not None and (problem := check(value)) is not None:
            raise ApiError.invalid([FieldError((name,), problem)])
    metadata = body.get("metadata")
    metadata_json = None if metadata is None else check_metadata(metadata, "metadata")
    return LogPatch(
        feedback=None if feedback is None else int(feedback),
        score=None if score is None else float(score),
        metadata=metadata_json,
        set_feedback="feedback" in body,
        set_score="score" in body,
        set_metadata="metadata" in body,
    )


__all__ = ["LogsApi"]
