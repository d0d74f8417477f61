"""The clients under test, each behind the same small interface.

Every client sends the same request (same URL, headers and body bytes where the API allows)
and reads the reply's text, so the only difference between rows is the client's own work.
The bare baselines use orjson, the JSON library the SDK uses when it is installed, so that a
ratio measures the SDK's overhead and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import aiohttp
import httpx
import openai
import orjson
from httpx_aiohttp import AiohttpTransport
from httpx_sse import aconnect_sse

from aigateway_sdk import GatewayBinding, PooledTransport, TextDelta
from aigateway_sdk.binding import DEFAULT_TIMEOUT, USER_AGENT

ACCOUNT = "acct"
GATEWAY = "gw"
TOKEN = "tok"
MODEL = "@cf/meta/llama-3.1-8b-instruct"
COMPAT_MODEL = f"workers-ai/{MODEL}"
PROMPT = "Say hello in one short sentence."
# Every client gets the SDK's default pool, so "same transport" means the same pool too.
LIMITS: httpx.Limits = GatewayBinding(account_id=ACCOUNT).limits
MAX_CONNECTIONS: int = LIMITS.max_connections or 256
HEADERS = {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    "authorization": f"Bearer {TOKEN}",
}


class Client(Protocol):
    name: str
    route: str
    transport: str

    async def call(self) -> str:
        """One non-streamed call; the reply's text."""
        ...

    async def stream(self, model: str | None = None) -> int:
        """One streamed call; the number of text parts received."""
        ...

    async def aclose(self) -> None: ...


def workers_ai_url(base: str, model: str = MODEL) -> str:
    return f"{base}/v1/{ACCOUNT}/{GATEWAY}/workers-ai/{model}"


def compat_url(base: str) -> str:
    return f"{base}/v1/{ACCOUNT}/{GATEWAY}/compat/chat/completions"


def aiohttp_transport() -> AiohttpTransport:
    return AiohttpTransport(limits=LIMITS)


def make_transport(kind: str) -> httpx.AsyncBaseTransport:
    """`pool`: the SDK's default (httpcore2's pool); `httpx`: httpx's own (httpcore 1.x);
    `aiohttp`: httpx-aiohttp."""
    if kind == "pool":
        return PooledTransport(limits=LIMITS)
    if kind == "aiohttp":
        return aiohttp_transport()
    return httpx.AsyncHTTPTransport(limits=LIMITS)


def _messages() -> list[dict[str, str]]:
    return [{"role": "user", "content": PROMPT}]


class SdkClient:
    """`GatewayBinding(...).model(...)`: `generate_text` / `stream_text`."""

    def __init__(self, name: str, base: str, *, compat: bool = False, transport: str = "pool"):
        self.name = name
        self.route = "compat" if compat else "workers-ai"
        self.transport = transport
        self._binding = GatewayBinding(
            account_id=ACCOUNT,
            gateway_id=GATEWAY,
            api_token=TOKEN,
            base_url=f"{base}/v1",
            # The default (None) is the pool; the others are passed explicitly.
            transport=None if transport == "pool" else make_transport(transport),
        )
        self._base = base
        self._lm = self._binding.model(COMPAT_MODEL if compat else MODEL)

    async def call(self) -> str:
        response = await self._lm.generate_text(prompt=PROMPT)
        return response.text

    async def stream(self, model: str | None = None) -> int:
        lm = self._lm if model is None else self._binding.model(model)
        parts = 0
        async for part in lm.stream_text(prompt=PROMPT):
            if type(part) is TextDelta:
                parts += 1
        return parts

    async def aclose(self) -> None:
        await self._binding.aclose()


class BareHttpx:
    """`httpx.AsyncClient.post` + `orjson.loads`; `httpx_sse.aconnect_sse` for streams."""

    def __init__(self, name: str, base: str, *, transport: str = "httpx"):
        self.name = name
        self.route = "workers-ai"
        self.transport = transport
        self._base = base
        self._url = workers_ai_url(base)
        self._client = httpx.AsyncClient(
            timeout=DEFAULT_TIMEOUT,
            limits=LIMITS,
            transport=None if transport == "httpx" else make_transport(transport),
        )

    async def call(self) -> str:
        body = orjson.dumps({"messages": _messages()})
        response = await self._client.post(self._url, content=body, headers=HEADERS)
        if response.status_code != 200:
            raise RuntimeError(f"status {response.status_code}")
        text: str = orjson.loads(response.content)["result"]["response"]
        return text

    async def stream(self, model: str | None = None) -> int:
        url = self._url if model is None else workers_ai_url(self._base, model)
        body = orjson.dumps({"messages": _messages(), "stream": True})
        parts = 0
        async with aconnect_sse(self._client, "POST", url, content=body, headers=HEADERS) as source:
            if source.response.status_code != 200:
                raise RuntimeError(f"status {source.response.status_code}")
            # Read to the end (no `break` at [DONE]) so that the connection goes back to the pool.
            async for event in source.aiter_sse():
                if event.data == "[DONE]":
                    continue
                if orjson.loads(event.data).get("response"):
                    parts += 1
        return parts

    async def aclose(self) -> None:
        await self._client.aclose()


class BareAiohttp:
    """`aiohttp.ClientSession.post` + `orjson.loads`; streams read line by line."""

    def __init__(self, name: str, base: str):
        self.name = name
        self.route = "workers-ai"
        self.transport = "aiohttp"
        self._base = base
        self._url = workers_ai_url(base)
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None:  # a session belongs to the running loop: create it inside
            session = self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
            )
        return session

    async def call(self) -> str:
        body = orjson.dumps({"messages": _messages()})
        async with self._open().post(self._url, data=body, headers=HEADERS) as response:
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            text: str = orjson.loads(await response.read())["result"]["response"]
        return text

    async def stream(self, model: str | None = None) -> int:
        url = self._url if model is None else workers_ai_url(self._base, model)
        body = orjson.dumps({"messages": _messages(), "stream": True})
        parts = 0
        async with self._open().post(url, data=body, headers=HEADERS) as response:
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            async for line in response.content:
                if not line.startswith(b"data: "):
                    continue
                data = line[6:].rstrip()
                if data == b"[DONE]":
                    continue  # read to the end: the connection goes back to the pool
                if orjson.loads(data).get("response"):
                    parts += 1
        return parts

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class OpenAiClient:
    """The official `openai` client on the gateway's `compat` route (default settings)."""

    def __init__(self, name: str, base: str):
        self.name = name
        self.route = "compat"
        self.transport = "httpx"
        self._client = openai.AsyncOpenAI(
            base_url=f"{base}/v1/{ACCOUNT}/{GATEWAY}/compat", api_key=TOKEN, max_retries=0
        )

    async def call(self) -> str:
        completion = await self._client.chat.completions.create(
            model=COMPAT_MODEL,
            messages=[{"role": "user", "content": PROMPT}],
        )
        return completion.choices[0].message.content or ""

    async def stream(self, model: str | None = None) -> int:
        chunks = await self._client.chat.completions.create(
            model=model or COMPAT_MODEL,
            messages=[{"role": "user", "content": PROMPT}],
            stream=True,
            stream_options={"include_usage": True},
        )
        parts = 0
        async for chunk in chunks:
            if chunk.choices and chunk.choices[0].delta.content:
                parts += 1
        return parts

    async def aclose(self) -> None:
        await self._client.close()


Factory = Callable[[str], Client]

# name -> how to build it from the server's base URL. The SDK and the bare httpx baseline on
# each of three transports (the SDK's default pool, httpx's own, aiohttp), then the peers.
CLIENTS: dict[str, Factory] = {
    "sdk": lambda base: SdkClient("sdk", base),
    "bare-httpx+pool": lambda base: BareHttpx("bare-httpx+pool", base, transport="pool"),
    "sdk+httpcore": lambda base: SdkClient("sdk+httpcore", base, transport="httpx"),
    "bare-httpx": lambda base: BareHttpx("bare-httpx", base),
    "sdk+aiohttp": lambda base: SdkClient("sdk+aiohttp", base, transport="aiohttp"),
    "bare-httpx+aiohttp": lambda base: BareHttpx("bare-httpx+aiohttp", base, transport="aiohttp"),
    "bare-aiohttp": lambda base: BareAiohttp("bare-aiohttp", base),
    "sdk-compat": lambda base: SdkClient("sdk-compat", base, compat=True),
    "openai": lambda base: OpenAiClient("openai", base),
}

ROUTES = {name: "compat" if name in ("sdk-compat", "openai") else "workers-ai" for name in CLIENTS}
TRANSPORTS = {
    "sdk": "pool",
    "bare-httpx+pool": "pool",
    "sdk+httpcore": "httpx",
    "bare-httpx": "httpx",
    "sdk+aiohttp": "aiohttp",
    "bare-httpx+aiohttp": "aiohttp",
    "bare-aiohttp": "aiohttp",
    "sdk-compat": "pool",
    "openai": "httpx2",
}

DESCRIPTIONS: dict[str, str] = {
    "sdk": "`lm.generate_text` / `lm.stream_text`, Workers AI route, the default transport "
    "(`PooledTransport`: httpx over httpcore2's pool)",
    "bare-httpx+pool": "bare httpx (as below) on the same `PooledTransport`",
    "sdk+httpcore": "the SDK with `transport=httpx.AsyncHTTPTransport()` "
    "(httpx's own, httpcore 1.x)",
    "bare-httpx": "`httpx.AsyncClient.post` + `orjson.loads`; `httpx_sse.aconnect_sse` + "
    "`orjson.loads` for streams; httpx's default transport",
    "sdk+aiohttp": "the SDK with `transport=httpx_aiohttp.AiohttpTransport()` (`aiohttp` extra)",
    "bare-httpx+aiohttp": "bare httpx (as above) on the same `AiohttpTransport`",
    "bare-aiohttp": "`aiohttp.ClientSession.post` + `orjson.loads`; streams line by line",
    "sdk-compat": "the SDK on the `compat` route (`workers-ai/@cf/...` model id)",
    "openai": "`openai.AsyncOpenAI(max_retries=0).chat.completions.create` on the `compat` route "
    "(it sends through httpx2)",
}


def build(names: list[str], base: str) -> dict[str, Client]:
    return {name: CLIENTS[name](base) for name in names}
