"""What never reaches a cassette: credential headers, keys in query strings, configured body
fields and secret values, replaced by a placeholder before anything is matched or written."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import attrs
import httpx

from aigateway_sdk.cassettes.records import Body, RecordedRequest
from aigateway_sdk.contract.headers import AUTHORIZATION as GATEWAY_AUTHORIZATION

SCRUBBED = "<scrubbed>"

CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",  # Cloudflare API token, Workers AI token, provider keys
        GATEWAY_AUTHORIZATION,  # the gateway's token
        "x-auth-key",  # Cloudflare's legacy API key
        "x-auth-email",  # ... and the e-mail it goes with
        "x-auth-user-service-key",  # the Origin CA key
        "proxy-authorization",
        "x-api-key",  # Anthropic and others
        "api-key",  # Azure OpenAI
        "x-goog-api-key",  # Google AI Studio
        "cookie",
        "set-cookie",
    }
)
"""Headers whose values are never written (the header stays, as `<scrubbed>`)."""

CREDENTIAL_QUERY = frozenset({"key", "api_key", "apikey", "api-key", "token", "access_token"})
"""Query parameters whose values are never written (compared lower-case)."""

NOISE_REQUEST_HEADERS = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "user-agent", "transfer-encoding"}
)
"""Request headers left out of a cassette: transport details, not part of the call."""

NOISE_RESPONSE_HEADERS = frozenset(
    {"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive", "date"}
)
"""Reply headers left out: the recorded body is already decoded, and its length follows it."""

_MIN_LEARNED = 6


def _lower_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.lower() for v in values)


def _str_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _secret_pairs(secrets: Iterable[str] | Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    pairs = secrets.items() if isinstance(secrets, Mapping) else ((s, SCRUBBED) for s in secrets)
    # Longest first, so a secret that contains another is replaced whole.
    return tuple(sorted(((s, p) for s, p in pairs if s), key=lambda pair: -len(pair[0])))


@attrs.frozen(slots=True)
class Scrubber:
    """The scrubbing rules of one cassette.

    `headers`, `query` and `fields` name what is replaced on top of the defaults (credential
    headers and query keys); `secrets` are values replaced wherever they appear (in URLs,
    headers and bodies, requests and replies), by `<scrubbed>`, or by the placeholder given
    when `secrets` is a mapping `{value: placeholder}` (say an account id, so that a cassette
    recorded with the real one replays with the placeholder)."""

    headers: frozenset[str] = attrs.field(default=CREDENTIAL_HEADERS, converter=_lower_set)
    query: frozenset[str] = attrs.field(default=CREDENTIAL_QUERY, converter=_lower_set)
    fields: frozenset[str] = attrs.field(default=frozenset(), converter=_str_set)
    secrets: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_secret_pairs)

    @classmethod
    def build(
        cls,
        headers: Iterable[str] = (),
        query: Iterable[str] = (),
        fields: Iterable[str] = (),
        secrets: Iterable[str] | Mapping[str, str] = (),
    ) -> Scrubber:
        """The defaults plus the given names and secret values."""
        return cls(
            headers=CREDENTIAL_HEADERS | _lower_set(headers),
            query=CREDENTIAL_QUERY | _lower_set(query),
            fields=_str_set(fields),
            secrets=secrets,
        )

    def text(self, value: str, extra: Iterable[str] = ()) -> str:
        """`value` with every secret (and every `extra` one) replaced."""
        for secret, placeholder in self.secrets:
            if secret in value:
                value = value.replace(secret, placeholder)
        for secret in extra:
            if secret in value:
                value = value.replace(secret, SCRUBBED)
        return value

    def data(self, content: bytes, extra: Iterable[str] = ()) -> bytes:
        """Raw bytes with every secret (and every `extra` one) replaced: a reply that is not
        UTF-8 is written as base64, which `text` and `strings` never look into."""
        for secret, placeholder in self.secrets:
            content = content.replace(secret.encode(), placeholder.encode())
        for secret in sorted(extra, key=len, reverse=True):
            content = content.replace(secret.encode(), SCRUBBED.encode())
        return content

    def url(self, url: httpx.URL) -> str:
        """The URL with credential query values scrubbed, then secrets replaced."""
        text = str(url.copy_with(query=None))
        if url.query:
            pairs = [
                (key, SCRUBBED if key.lower() in self.query else value)
                for key, value in parse_qsl(url.query.decode(), keep_blank_values=True)
            ]
            text += "?" + urlencode(pairs, quote_via=quote, safe="<>")
        return self.text(text)

    def header_pairs(
        self, headers: httpx.Headers, noise: frozenset[str]
    ) -> tuple[tuple[str, str], ...]:
        """Headers as lower-case pairs, sorted, without `noise`, credentials scrubbed."""
        pairs = []
        for key, value in headers.multi_items():
            name = key.lower()
            if name in noise:
                continue
            pairs.append((name, SCRUBBED if name in self.headers else self.text(value)))
        return tuple(sorted(pairs))

    def body(self, body: Body | None) -> Body | None:
        """The body with configured fields (at any depth of a JSON body) and secrets replaced."""
        if body is None:
            return None
        if body.kind == "json":
            return Body("json", self.value(body.value))
        if body.kind == "text":
            return Body("text", self.text(str(body.value)))
        return body

    def value(self, value: Any) -> Any:
        """A JSON value with configured fields and secrets replaced."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {
                self.text(key): SCRUBBED if key in self.fields else self.value(item)
                for key, item in value.items()
            }
        return value

    def strings(self, value: Any, extra: Iterable[str] = ()) -> Any:
        """A JSON value with secrets (and `extra` ones) replaced in every string."""
        if isinstance(value, str):
            return self.text(value, extra)
        if isinstance(value, list):
            return [self.strings(item, extra) for item in value]
        if isinstance(value, dict):
            return {self.text(k, extra): self.strings(v, extra) for k, v in value.items()}
        return value

    def request(self, request: httpx.Request, content: bytes) -> RecordedRequest:
        """A live request as it is matched and recorded. Its own credentials are scrubbed
        from its URL and body too (a token echoed in a prompt), so that it matches the same
        request replayed with other credentials."""
        learned = sorted(learned_secrets(request.headers, self.headers), key=len, reverse=True)
        body = self.body(Body.of(content, request.headers.get("content-type")))
        if learned and body is not None and body.kind != "base64":
            body = Body(body.kind, self.strings(body.value, learned))
        return RecordedRequest(
            method=request.method,
            url=self.text(self.url(request.url), learned),
            headers=self.header_pairs(request.headers, NOISE_REQUEST_HEADERS),
            body=body,
        )


def learned_secrets(headers: httpx.Headers, names: frozenset[str]) -> set[str]:
    """The values of the credential headers of a live request (and the token after `Bearer `),
    so that a credential echoed anywhere else (a body, a reply) is scrubbed too."""
    found: set[str] = set()
    for key, value in headers.multi_items():
        if key.lower() not in names:
            continue
        for candidate in (value, value.partition(" ")[2]):
            candidate = candidate.strip()
            if len(candidate) >= _MIN_LEARNED:
                found.add(candidate)
    return found


__all__ = [
    "CREDENTIAL_HEADERS",
    "CREDENTIAL_QUERY",
    "SCRUBBED",
    "Scrubber",
    "learned_secrets",
]
