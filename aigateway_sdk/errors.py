"""Typed failures: `AiError` with one reason class per cause, and `Defect`.

Every failure of a model call ends here; no httpx exception, `KeyError` or
`JSONDecodeError` crosses the public API. Branch on the reason:

    try:
        response = await lm.generate_text(prompt="hi")
    except AiError as error:
        match error.reason:
            case RateLimited(retry_after=delay): ...
            case AuthenticationFailed(): ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import attrs

if TYPE_CHECKING:
    from aigateway_sdk.response import Step

GATEWAY_UNAUTHORIZED_CODE = 2009
"""Cloudflare's code on a 401 from the gateway's own authentication (`cf-aig-authorization`)."""


@attrs.frozen(slots=True)
class ErrorDetail:
    """One entry of Cloudflare's `errors` array: code, message and (for validation) field path."""

    code: int | None
    message: str
    path: tuple[str, ...] = ()


@attrs.frozen(slots=True, kw_only=True)
class Reason:
    """Why a call failed. Subclasses name the cause; all carry the same facts."""

    retryable: ClassVar[bool] = False

    message: str
    status: int | None = None
    """HTTP status of the reply, when there was one."""
    code: int | None = None
    """Cloudflare's numeric error code, when the body carried one."""
    log_id: str | None = None
    """`cf-aig-log-id` of the failed request, when the gateway logged it."""
    retry_after: float | None = None
    """Seconds the server asked us to wait (`Retry-After` / `retry-after-ms`)."""
    details: tuple[ErrorDetail, ...] = ()
    """Every error Cloudflare listed, with field paths for validation errors."""

    @property
    def tag(self) -> str:
        return type(self).__name__

    @property
    def is_retryable(self) -> bool:
        return self.retryable


@attrs.frozen(slots=True, kw_only=True)
class RateLimited(Reason):
    """HTTP 429: the gateway's or the provider's rate limit."""

    retryable: ClassVar[bool] = True


@attrs.frozen(slots=True, kw_only=True)
class AuthenticationFailed(Reason):
    """HTTP 401: a missing or wrong credential. Cloudflare's code says which: 2009
    (`GATEWAY_UNAUTHORIZED_CODE`) is the gateway token (`cf-aig-authorization`), any other
    (10000 for instance) the API token or provider key (`authorization`); the message says so."""


@attrs.frozen(slots=True, kw_only=True)
class PermissionDenied(Reason):
    """HTTP 403: the token is valid but may not do this."""


@attrs.frozen(slots=True, kw_only=True)
class InvalidRequest(Reason):
    """HTTP 400/413/422, or input the SDK refused before sending."""


@attrs.frozen(slots=True, kw_only=True)
class UnknownModel(InvalidRequest):
    """Workers AI does not serve the model asked for ("No such model", code 5007, HTTP 400):
    a typo in an `@cf/...` id, or a retired model. `model` is the id, when the message names
    it. An `InvalidRequest`, so code matching that still catches it."""

    model: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class NotFound(Reason):
    """HTTP 404: unknown gateway, model, route or log."""


@attrs.frozen(slots=True, kw_only=True)
class Conflict(Reason):
    """HTTP 409: the resource changed or already exists."""

    retryable: ClassVar[bool] = True


@attrs.frozen(slots=True, kw_only=True)
class ProviderError(Reason):
    """HTTP 5xx (or 408): the gateway or the upstream provider failed."""

    retryable: ClassVar[bool] = True


@attrs.frozen(slots=True, kw_only=True)
class RouteFailed(ProviderError):
    """A dynamic route (`dynamic/<name>`) failed: every model it tried failed and the last had
    no fallback. `tried` lists them in order, as "provider/model". A `ProviderError`, so code
    that handles provider failures handles this one too."""

    route: str = ""
    tried: tuple[str, ...] = ()


@attrs.frozen(slots=True, kw_only=True)
class NetworkError(Reason):
    """The connection failed: refused, reset, closed early, TLS, DNS."""

    retryable: ClassVar[bool] = True


@attrs.frozen(slots=True, kw_only=True)
class Timeout(Reason):
    """No answer (or no complete answer) in the allowed time."""

    retryable: ClassVar[bool] = True


@attrs.frozen(slots=True, kw_only=True)
class MalformedOutput(Reason):
    """The reply could not be decoded: bad JSON, wrong shape, wrong content type, bad SSE."""


@attrs.frozen(slots=True, kw_only=True)
class UnexpectedStatus(Reason):
    """Any other non-success HTTP status."""


@attrs.frozen(slots=True, kw_only=True)
class ToolLoopReason(Reason):
    """A failure of a tool loop or of structured output. `steps` keeps every step done
    before it (model replies, tool calls and results): nothing is lost."""

    steps: tuple[Step, ...] = attrs.field(default=(), eq=False, repr=False)


@attrs.frozen(slots=True, kw_only=True)
class UnknownTool(ToolLoopReason):
    """The model asked for a tool the toolkit does not have."""

    tool: str
    call_id: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class InvalidToolArguments(ToolLoopReason):
    """A tool call's arguments were not JSON or did not match the tool's schema; `details`
    name each failing path."""

    tool: str
    call_id: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class ToolFailed(ToolLoopReason):
    """A tool's handler raised (the exception is the `AiError`'s `__cause__`), or did not
    finish within the tool timeout."""

    tool: str
    call_id: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class MaxStepsExceeded(ToolLoopReason):
    """The model still asked for tools after `max_steps` model calls."""

    max_steps: int


@attrs.frozen(slots=True, kw_only=True)
class InvalidOutput(ToolLoopReason):
    """Structured output (`generate_object`) was not JSON or did not match the schema, after
    every repair attempt; `details` name each failing path and `text` is the last reply."""

    text: str = attrs.field(default="", repr=False)


class AiError(Exception):
    """A model or gateway call failed; `reason` says why."""

    __slots__ = ("reason",)

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.message)
        self.reason = reason

    @property
    def message(self) -> str:
        return self.reason.message

    @property
    def status(self) -> int | None:
        return self.reason.status

    @property
    def code(self) -> int | None:
        return self.reason.code

    @property
    def log_id(self) -> str | None:
        return self.reason.log_id

    @property
    def is_retryable(self) -> bool:
        return self.reason.is_retryable

    @property
    def retry_after(self) -> float | None:
        return self.reason.retry_after

    def __str__(self) -> str:
        facts = [f"{name} {value}" for name, value in self._facts() if value is not None]
        suffix = f" ({', '.join(facts)})" if facts else ""
        return f"{self.reason.tag}: {self.reason.message}{suffix}"

    def __repr__(self) -> str:
        return f"AiError({self.reason!r})"

    def _facts(self) -> tuple[tuple[str, object], ...]:
        r = self.reason
        return (("status", r.status), ("code", r.code), ("log id", r.log_id))

    def __reduce__(self) -> tuple[type[AiError], tuple[Reason]]:
        return (AiError, (self.reason,))


class Defect(Exception):
    """An `AiError` the caller chose not to handle (`or_die`): a bug or a 500, not a branch."""

    __slots__ = ("error",)

    def __init__(self, error: AiError) -> None:
        super().__init__(str(error))
        self.error = error
        self.__cause__ = error


def reason_for_status(status: int) -> type[Reason]:
    """The reason class for a non-success HTTP status."""
    if status == 429:
        return RateLimited
    if status == 401:
        return AuthenticationFailed
    if status == 403:
        return PermissionDenied
    if status == 404:
        return NotFound
    if status == 409:
        return Conflict
    if status == 408 or status >= 500:
        return Timeout if status in (408, 504) else ProviderError
    if status in (400, 405, 413, 415, 422):
        return InvalidRequest
    return UnexpectedStatus


__all__ = [
    "GATEWAY_UNAUTHORIZED_CODE",
    "AiError",
    "AuthenticationFailed",
    "Conflict",
    "Defect",
    "ErrorDetail",
    "InvalidOutput",
    "InvalidRequest",
    "InvalidToolArguments",
    "MalformedOutput",
    "MaxStepsExceeded",
    "NetworkError",
    "NotFound",
    "PermissionDenied",
    "ProviderError",
    "RateLimited",
    "Reason",
    "RouteFailed",
    "Timeout",
    "ToolFailed",
    "ToolLoopReason",
    "UnexpectedStatus",
    "UnknownModel",
    "UnknownTool",
    "reason_for_status",
]
