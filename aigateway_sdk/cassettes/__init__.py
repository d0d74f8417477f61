"""Record once, replay forever: cassettes of a gateway's requests and replies for tests.

    with Cassette.open("tests/cassettes/summary.json", mode="once") as cassette:
        binding = GatewayBinding(..., transport=cassette.transport)

See `Cassette` for the modes, and docs/testing.md; the pytest plugin adds a `cassette` fixture
and a `@pytest.mark.cassette` marker. Names are loaded on first use: the plugin imports
`modes` only, and a test run that uses no cassette loads nothing else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, tuple[str, ...]] = {
    "aigateway_sdk.cassettes.cassette": ("Cassette",),
    "aigateway_sdk.cassettes.errors": (
        "CassetteError",
        "CassetteFormatError",
        "CassetteMissError",
        "CassetteNotFoundError",
    ),
    "aigateway_sdk.cassettes.match": ("DEFAULT_MATCH", "MatchOn"),
    "aigateway_sdk.cassettes.modes": ("MODES", "MODE_ENV", "Mode"),
    "aigateway_sdk.cassettes.records": (
        "Body",
        "Interaction",
        "RecordedRequest",
        "RecordedResponse",
    ),
    "aigateway_sdk.cassettes.scrub": (
        "CREDENTIAL_HEADERS",
        "CREDENTIAL_QUERY",
        "SCRUBBED",
        "Scrubber",
    ),
    "aigateway_sdk.cassettes.transport": ("CassetteTransport",),
}
_LAZY = {name: module for module, names in _EXPORTS.items() for name in names}

if TYPE_CHECKING:
    from aigateway_sdk.cassettes.cassette import Cassette
    from aigateway_sdk.cassettes.errors import (
        CassetteError,
        CassetteFormatError,
        CassetteMissError,
        CassetteNotFoundError,
    )
    from aigateway_sdk.cassettes.match import DEFAULT_MATCH, MatchOn
    from aigateway_sdk.cassettes.modes import MODE_ENV, MODES, Mode
    from aigateway_sdk.cassettes.records import (
        Body,
        Interaction,
        RecordedRequest,
        RecordedResponse,
    )
    from aigateway_sdk.cassettes.scrub import (
        CREDENTIAL_HEADERS,
        CREDENTIAL_QUERY,
        SCRUBBED,
        Scrubber,
    )
    from aigateway_sdk.cassettes.transport import CassetteTransport


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "CREDENTIAL_HEADERS",
    "CREDENTIAL_QUERY",
    "DEFAULT_MATCH",
    "MODES",
    "MODE_ENV",
    "SCRUBBED",
    "Body",
    "Cassette",
    "CassetteError",
    "CassetteFormatError",
    "CassetteMissError",
    "CassetteNotFoundError",
    "CassetteTransport",
    "Interaction",
    "MatchOn",
    "Mode",
    "RecordedRequest",
    "RecordedResponse",
    "Scrubber",
]
