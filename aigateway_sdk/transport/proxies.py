"""Which proxy a request goes through: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`.

The rules are httpx's (those of its clients with `trust_env=True`), so the default transport
routes like a plain `httpx.AsyncClient` would:

- `HTTP_PROXY` for `http://` URLs, `HTTPS_PROXY` for `https://` URLs, `ALL_PROXY` for both when
  the scheme's own variable is unset; lower-case names too (read by `urllib.request.getproxies`,
  which also reads the system settings on macOS and Windows). A proxy without a scheme is
  `http://`.
- `NO_PROXY` is a comma-separated list: `*` turns every proxy off; `example.com` matches
  `example.com` and its subdomains; `.example.com` (or `*.example.com`) only the subdomains; an
  IP address (or a CIDR block, `10.0.0.0/8`), `[::1]` or `localhost` matches that host;
  `host:port` only that port; `scheme://host` only that scheme.
"""

from __future__ import annotations

import ipaddress
import urllib.request
from collections.abc import Mapping

import attrs
import httpx

_SCHEMES = ("http", "https")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
_DEFAULT_PORTS = {"http": 80, "https": 443}

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@attrs.frozen(slots=True)
class _Bypass:
    """One `NO_PROXY` entry."""

    scheme: str | None
    host: str
    """A host name (lower case) or '' when `network` is set."""
    subdomains_only: bool = False
    network: _Network | None = None
    port: int | None = None

    def matches(self, url: httpx.URL) -> bool:
        if self.scheme is not None and url.scheme != self.scheme:
            return False
        if self.port is not None and _port(url) != self.port:
            return False
        host = url.host.lower()
        if self.network is not None:
            try:
                return ipaddress.ip_address(host) in self.network
            except ValueError:
                return False
        if host == self.host:
            return not self.subdomains_only
        return host.endswith("." + self.host)


def _port(url: httpx.URL) -> int | None:
    return url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme)


def _network(text: str) -> _Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _bypass(entry: str) -> _Bypass | None:
    """A `NO_PROXY` entry as a rule (None for one that cannot match anything)."""
    scheme: str | None = None
    if "://" in entry:
        scheme, entry = entry.split("://", 1)
        scheme = scheme.lower()
        entry = entry.rstrip("/")
    port: int | None = None
    if entry.startswith("["):  # [::1] or [::1]:8080
        address, _, rest = entry[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
        network = _network(address)
        return None if network is None else _Bypass(scheme, "", network=network, port=port)
    network = _network(entry)  # an IPv4 or IPv6 address or block, no port
    if network is not None:
        return _Bypass(scheme, "", network=network)
    name, colon, digits = entry.rpartition(":")
    if colon and digits.isdigit():
        entry, port = name, int(digits)
        network = _network(entry)
        if network is not None:
            return _Bypass(scheme, "", network=network, port=port)
    host = entry.lower()
    subdomains_only = host.startswith((".", "*."))
    host = host.lstrip("*").lstrip(".")
    if not host:
        return None
    return _Bypass(scheme, host, subdomains_only=subdomains_only, port=port)


@attrs.frozen(slots=True)
class ProxyRoutes:
    """Proxy URLs by request scheme (`http`, `https`, `all`) and the `NO_PROXY` exceptions."""

    proxies: Mapping[str, str] = attrs.field(factory=dict)
    bypass: tuple[_Bypass, ...] = ()

    @classmethod
    def from_environment(cls) -> ProxyRoutes:
        """The routes the environment (or the system settings) ask for, read now."""
        return cls.from_settings(urllib.request.getproxies())

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> ProxyRoutes:
        """Routes from settings shaped like `urllib.request.getproxies()`'s."""
        entries = [e.strip() for e in settings.get("no", "").split(",")]
        if "*" in entries:
            return cls()
        proxies = {}
        for scheme in (*_SCHEMES, "all"):
            url = settings.get(scheme, "").strip()
            if url:
                proxies[scheme] = url if "://" in url else f"http://{url}"
        rules = tuple(rule for entry in entries if entry and (rule := _bypass(entry)) is not None)
        return cls(proxies, rules if proxies else ())

    @classmethod
    def every_request(cls, proxy: str) -> ProxyRoutes:
        """Every request through `proxy` (an explicit `proxy=`: no `NO_PROXY`)."""
        return cls({"all": proxy if "://" in proxy else f"http://{proxy}"})

    def proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy URL for a request to `url`, or None to connect directly."""
        if not self.proxies:
            return None
        proxy = self.proxies.get(url.scheme) or self.proxies.get("all")
        if proxy is None or any(rule.matches(url) for rule in self.bypass):
            return None
        return proxy


__all__ = ["PROXY_SCHEMES", "ProxyRoutes"]
