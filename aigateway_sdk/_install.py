"""What to install for an optional feature: the distribution's name and its extras."""

from __future__ import annotations

DISTRIBUTION = "cf-aigateway-sdk"
"""The name on PyPI (the import package is `aigateway_sdk`)."""

EXTRA_OF_MODULE = {
    "starlette": "local",
    "uvicorn": "local",
    "httpx_aiohttp": "aiohttp",
    "aiohttp": "aiohttp",
    "h2": "http2",
}
"""Top-level modules that only an extra installs, and that extra."""


def install_line(extra: str) -> str:
    """`pip install 'cf-aigateway-sdk[extra]'`."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def extra_for(error: ImportError) -> str | None:
    """The extra that provides the module an `ImportError` is about, if any."""
    name = error.name or ""
    return EXTRA_OF_MODULE.get(name.split(".", 1)[0])


__all__ = ["DISTRIBUTION", "EXTRA_OF_MODULE", "extra_for", "install_line"]
