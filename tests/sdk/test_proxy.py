"""The default transport honours HTTP(S)_PROXY / ALL_PROXY / NO_PROXY as httpx's clients do,
`proxy=` and `trust_env=False`, and `verify=False`; checked through a small forwarding proxy
and a TLS server with a self-signed certificate, both on loopback."""

from __future__ import annotations

import base64
import contextlib
import http.server
import json
import socket
import socketserver
import ssl
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from aigateway_sdk import GatewayBinding, PooledTransport
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
from aigateway_sdk.transport.proxies import ProxyRoutes

pytestmark = pytest.mark.anyio

TOKEN = "proxy-test-token"
MODEL = "@cf/meta/llama-3.1-8b-instruct"
CERT = Path(__file__).with_name("selfsigned-localhost.pem")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


# -- a forwarding proxy that records what it carried -----------------------------------------


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


class _ProxyHandler(socketserver.StreamRequestHandler):
    server: ForwardProxy

    def handle(self) -> None:
        head = [self.rfile.readline().decode("latin-1").rstrip("\r\n")]
        while head[-1]:
            head.append(self.rfile.readline().decode("latin-1").rstrip("\r\n"))
        method, target, _ = head[0].split(" ", 2)
        headers = dict(line.split(": ", 1) for line in head[1:-1])
        self.server.seen.append((method, target, {k.lower(): v for k, v in headers.items()}))
        if method == "CONNECT":  # a tunnel, for https:// targets
            host, port = target.rsplit(":", 1)
            with socket.create_connection((host, int(port))) as upstream:
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.wfile.flush()
                back = threading.Thread(target=_pipe, args=(upstream, self.connection))
                back.start()
                _pipe(self.connection, upstream)
                back.join()
            return
        url = urlsplit(target)  # absolute-form: http://host:port/path
        body = self.rfile.read(int(headers.get("Content-Length", headers.get("content-length", 0))))
        kept = [
            line
            for line in head[1:-1]
            if not line.lower().startswith(("proxy-", "connection:", "keep-alive:"))
        ]
        path = url.path + (f"?{url.query}" if url.query else "")
        request = "\r\n".join([f"{method} {path} HTTP/1.1", *kept, "Connection: close", "", ""])
        with socket.create_connection((url.hostname or "", url.port or 80)) as upstream:
            upstream.sendall(request.encode("latin-1") + body)
            reply = b""
            while data := upstream.recv(65536):
                reply += data
        status, rest = reply.split(b"\r\n", 1)
        self.wfile.write(status + b"\r\nConnection: close\r\n" + rest)


class ForwardProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that went away is not the test's business


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    server = ForwardProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    db = tmp_path_factory.mktemp("proxy") / "gw.db"
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN)) as gw:
        yield gw


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


async def call(gateway: LocalGateway, **binding: object) -> str:
    async with GatewayBinding(
        account_id="acct-proxy",
        api_token=TOKEN,
        gateway_token=TOKEN,
        base_url=gateway.data_url,
        **binding,  # type: ignore[arg-type]
    ) as bound:
        return (await bound.model(MODEL).generate_text(prompt="Say hello.")).text


# -- the environment ---------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY"])
async def test_the_default_transport_goes_through_the_environment_proxy(
    gateway: LocalGateway, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, proxy.url)
    assert await call(gateway)
    assert [(method, target) for method, target, _ in proxy.seen] == [
        ("POST", f"{gateway.data_url}/acct-proxy/default/workers-ai/{MODEL}")
    ]


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.0/8", "*"])
async def test_no_proxy_connects_directly(
    gateway: LocalGateway, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    assert await call(gateway)
    assert proxy.seen == []


async def test_https_proxy_is_not_used_for_http(
    gateway: LocalGateway, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    assert await call(gateway)
    assert proxy.seen == []


async def test_trust_env_false_ignores_the_environment(
    gateway: LocalGateway, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    assert await call(gateway, transport=PooledTransport(trust_env=False))
    assert proxy.seen == []


async def test_an_explicit_proxy_sends_its_credentials(
    gateway: LocalGateway, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_PROXY", "*")  # an explicit proxy is not subject to NO_PROXY
    authority = proxy.url.removeprefix("http://")
    assert await call(gateway, transport=PooledTransport(proxy=f"http://me:s3cret@{authority}"))
    [(_, _, headers)] = proxy.seen
    assert headers["proxy-authorization"] == "Basic " + base64.b64encode(b"me:s3cret").decode()


# -- TLS: verify=False, and https:// through a CONNECT tunnel ---------------------------------


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"hello": "tls"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _TlsServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # handshakes refused by a verifying client


@pytest.fixture
def tls_url() -> Iterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(CERT)
    server = _TlsServer(("127.0.0.1", 0), _Hello)
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


async def get(url: str, transport: PooledTransport) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport) as client:
        return await client.get(url)


async def test_verify_false_accepts_a_self_signed_certificate(tls_url: str) -> None:
    with pytest.raises(httpx.ConnectError):
        await get(tls_url, PooledTransport())
    assert (await get(tls_url, PooledTransport(verify=False))).json() == {"hello": "tls"}


async def test_https_goes_through_a_connect_tunnel(
    tls_url: str, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    reply = await get(tls_url, PooledTransport(verify=False))
    assert reply.json() == {"hello": "tls"}
    assert [(method, target) for method, target, _ in proxy.seen] == [
        ("CONNECT", tls_url.removeprefix("https://").rstrip("/"))
    ]


# -- the rules, one by one -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("no_proxy", "url", "proxied"),
    [
        ("", "http://example.com/", True),
        ("example.com", "http://example.com/", False),
        ("example.com", "http://api.example.com/", False),
        ("example.com", "http://notexample.com/", True),
        (".example.com", "http://example.com/", True),
        (".example.com", "http://api.example.com/", False),
        ("*.example.com", "http://api.example.com/", False),
        ("EXAMPLE.com", "http://Example.COM/", False),
        ("example.com:8080", "http://example.com:8080/", False),
        ("example.com:8080", "http://example.com/", True),
        ("10.0.0.0/8", "http://10.1.2.3/", False),
        ("10.0.0.0/8", "http://11.1.2.3/", True),
        ("::1", "http://[::1]:9/", False),
        ("[::1]:9", "http://[::1]:9/", False),
        ("[::1]:9", "http://[::1]:10/", True),
        ("localhost", "http://localhost:1/", False),
        ("https://example.com", "http://example.com/", True),
        ("https://example.com", "https://example.com/", False),
        (" a.org , example.com ", "http://example.com/", False),
        ("a.org,*", "http://example.com/", False),
    ],
)
def test_no_proxy_rules(no_proxy: str, url: str, proxied: bool) -> None:
    routes = ProxyRoutes.from_settings({"all": "proxy:3128", "no": no_proxy})
    expected = "http://proxy:3128" if proxied else None
    assert routes.proxy_for(httpx.URL(url)) == expected


def test_the_scheme_variable_wins_over_all_proxy() -> None:
    routes = ProxyRoutes.from_settings({"all": "http://all:1", "https": "https://tls:2"})
    assert routes.proxy_for(httpx.URL("https://example.com/")) == "https://tls:2"
    assert routes.proxy_for(httpx.URL("http://example.com/")) == "http://all:1"


def test_an_unknown_proxy_scheme_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "ftp://proxy:21")
    with pytest.raises(ValueError, match="unsupported proxy scheme 'ftp'"):
        PooledTransport()


def test_http2_without_h2_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "h2", None)  # as if the `http2` extra were not installed
    with pytest.raises(ImportError, match=r"cf-aigateway-sdk\[http2\]"):
        PooledTransport(http2=True)
