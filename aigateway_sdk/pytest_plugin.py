"""pytest fixtures for code that uses the SDK, loaded by `pip install` alone (the `pytest11`
entry point); nothing to add to a conftest.py.

    def test_handler(fake_language_model, override_provider):
        fake_language_model.script = ["hello"]  # or build your own FakeLanguageModel
        override_provider(Container.language_model, fake_language_model)
        ...

    @pytest.mark.cassette  # tests/cassettes/<module>/<test>.json, beside the test
    async def test_summary(cassette):
        binding = GatewayBinding(..., transport=cassette.transport)

    async def test_against_a_gateway(local_gateway_binding):
        async with local_gateway_binding as binding:
            ...

The fixtures:
- `fake_language_model`, `fake_embedding_model`: fresh fakes (`aigateway_sdk.testing`).
- `override_provider(provider, model)`: swap a container provider for the test's duration. The
  provider may be the class's (`Container.language_model`) or a built container's; the SDK's
  providers follow a class override even in containers built before the test.
- `cassette`: a `Cassette` for the test, configured by `@pytest.mark.cassette(name, mode=...,
  match=..., scrub_headers=..., scrub_fields=..., secrets=...)`. The mode is, first found:
  `--cassette-mode`, `AIGATEWAY_CASSETTE_MODE`, the marker's `mode`, else `replay` when the
  `CI` environment variable is set and `once` when it is not.
- `local_gateway` (one per test session, started by the first test that asks for it) and
  `local_gateway_binding` (a `GatewayBinding` on it); override `local_gateway_config` to
  configure it. They need the `local` extra.

Loading the plugin costs nothing beyond pytest: the SDK is imported by the fixtures a test
uses, and no fixture is autouse.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from aigateway_sdk.cassettes.modes import MODE_ENV, MODES

if TYPE_CHECKING:
    from aigateway_sdk.binding import GatewayBinding
    from aigateway_sdk.cassettes import Cassette
    from aigateway_sdk.local import LocalGateway, LocalGatewayConfig
    from aigateway_sdk.testing import FakeEmbeddingModel, FakeLanguageModel

LOCAL_API_TOKEN = "local-test-token"

_MARKER = (
    "cassette(name=None, *, mode=None, match=None, scrub_headers=(), scrub_query=(), "
    "scrub_fields=(), secrets=()): record and replay this test's gateway calls through the "
    "`cassette` fixture (aigateway-sdk)"
)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-\[\]]+")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aigateway", "aigateway-sdk")
    group.addoption(
        "--cassette-mode",
        choices=MODES,
        default=None,
        help=(
            "mode of every `cassette` fixture: replay (never the network), record "
            "(overwrite), once (record what is missing), new_episodes (add what is new); "
            f"default: ${MODE_ENV}, else the marker's, else replay on CI and once elsewhere"
        ),
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER)


# -- fakes ------------------------------------------------------------------------------


@pytest.fixture
def fake_language_model() -> FakeLanguageModel:
    """A fresh fake answering "ok" until scripted otherwise."""
    from aigateway_sdk.testing import FakeLanguageModel

    return FakeLanguageModel()


@pytest.fixture
def fake_embedding_model() -> FakeEmbeddingModel:
    """A fresh fake embedding model (deterministic vectors)."""
    from aigateway_sdk.testing import FakeEmbeddingModel

    return FakeEmbeddingModel()


@pytest.fixture
def override_provider() -> Iterator[Callable[[Any, Any], Any]]:
    """`override_provider(provider, model)`: swap a container provider for the test's duration."""
    from aigateway_sdk.testing import override_model

    with ExitStack() as stack:

        def override(provider: Any, model: Any) -> Any:
            return stack.enter_context(override_model(provider, model))

        yield override


# -- cassettes --------------------------------------------------------------------------


def cassette_mode(config: pytest.Config, marker_mode: str | None = None) -> str:
    """The mode of a test's cassette (see the module docstring for the order)."""
    option = config.getoption("--cassette-mode", default=None)
    if option:
        return str(option)
    env = os.environ.get(MODE_ENV, "").strip()
    if env:
        if env not in MODES:
            raise pytest.UsageError(f"{MODE_ENV}={env!r}: must be one of {', '.join(MODES)}")
        return env
    if marker_mode is not None:
        return marker_mode
    return (
        "replay" if os.environ.get("CI", "").strip().lower() not in ("", "0", "false") else "once"
    )


def cassette_path(node: pytest.Item, name: str | None = None) -> Path:
    """`cassettes/<test module>/<name or test name>.json` beside the test's file."""
    module = Path(str(node.path))
    if name is None:
        test = node.nodeid.split("::", 1)[-1].replace("::", ".")
        name = _UNSAFE.sub("_", test)
    if not name.endswith(".json"):
        name += ".json"
    return module.parent / "cassettes" / module.stem / name


@pytest.fixture
def cassette(request: pytest.FixtureRequest) -> Iterator[Cassette]:
    """A `Cassette` for this test: give `cassette.transport` to the binding (or to an
    `httpx.AsyncClient` of the control-plane clients). Recording modes write the file when
    the test ends."""
    from aigateway_sdk.cassettes import Cassette

    marker = request.node.get_closest_marker("cassette")
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    name = marker.args[0] if marker is not None and marker.args else options.pop("name", None)
    mode = cassette_mode(request.config, options.pop("mode", None))
    if options.get("match") is None:
        options.pop("match", None)
    path = cassette_path(request.node, name)
    with Cassette.open(path, mode, **options) as opened:  # type: ignore[arg-type]
        yield opened


# -- the local gateway ------------------------------------------------------------------


@pytest.fixture(scope="session")
def local_gateway_config(tmp_path_factory: pytest.TempPathFactory) -> LocalGatewayConfig:
    """The configuration of `local_gateway`: a database in the session's temporary directory,
    any bearer token accepted. Override this fixture in a conftest.py to change it."""
    from aigateway_sdk.local import LocalGatewayConfig

    return LocalGatewayConfig(db_path=tmp_path_factory.mktemp("aigateway") / "gateway.db")


@pytest.fixture(scope="session")
def local_gateway(local_gateway_config: LocalGatewayConfig) -> Iterator[LocalGateway]:
    """One local gateway for the whole test run, started when a test first asks for it and
    stopped when the run ends. `data_url` and `api_url` are its two planes."""
    try:
        from aigateway_sdk.local import LocalGateway
    except ImportError as error:  # the `local` extra is missing
        pytest.fail(
            f"the local_gateway fixture needs the SDK's `local` extra ({error}): "
            "pip install 'cf-aigateway-sdk[local]'",
            pytrace=False,
        )
    with LocalGateway(local_gateway_config) as gateway:
        yield gateway


@pytest.fixture
def local_gateway_binding(local_gateway: LocalGateway) -> GatewayBinding:
    """A `GatewayBinding` on `local_gateway`'s `default` gateway (its default account), both
    planes. Not started: use it as `async with local_gateway_binding as binding:`."""
    from aigateway_sdk.binding import GatewayBinding

    configured = local_gateway.config.api_token
    return GatewayBinding(
        account_id=local_gateway.config.default_account_id,
        gateway_id="default",
        api_token=configured or LOCAL_API_TOKEN,
        gateway_token=configured,  # the `default` gateway is authenticated when a token is set
        base_url=local_gateway.data_url,
        api_base_url=local_gateway.api_url,
    )
