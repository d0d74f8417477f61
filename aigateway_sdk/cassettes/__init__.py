"""Record once, replay forever: cassettes of a gateway's requests and replies for tests.

    with Cassette.open("tests/cassettes/summary.json", mode="once") as cassette:
        binding = GatewayBinding(..., transport=cassette.transport)

See `Cassette` for the modes, and docs/testing.md; the pytest plugin adds a `cassette` fixture
and a `@pytest.mark.cassette` marker.
"""

from aigateway_sdk.cassettes.cassette import MODE_ENV, MODES, Cassette, Mode
from aigateway_sdk.cassettes.errors import (
    CassetteError,
    CassetteFormatError,
    CassetteMissError,
    CassetteNotFoundError,
)
from aigateway_sdk.cassettes.match import DEFAULT_MATCH, MatchOn
from aigateway_sdk.cassettes.records import Body, Interaction, RecordedRequest, RecordedResponse
from aigateway_sdk.cassettes.scrub import CREDENTIAL_HEADERS, CREDENTIAL_QUERY, SCRUBBED, Scrubber
from aigateway_sdk.cassettes.transport import CassetteTransport

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
