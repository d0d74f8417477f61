"""The opt-in pytest plugin overrides a provider for one test and undoes it afterwards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import containers, providers

import aigateway_sdk
from aigateway_sdk.testing import FakeLanguageModel

# An in-process pytester run drops the modules first imported during it; a name the package
# resolved lazily then (and cached) would point into a dropped module. Resolve them all first.
for _name in aigateway_sdk.__all__:
    getattr(aigateway_sdk, _name)

pytest_plugins = ["aigateway_sdk.pytest_plugin", "pytester"]
pytestmark = pytest.mark.anyio


class Container(containers.DeclarativeContainer):
    language_model = providers.Object("the real model")


async def test_override_lasts_for_the_test(
    fake_language_model: FakeLanguageModel, override_provider: Callable[[Any, Any], Any]
) -> None:
    fake_language_model.script = ["scripted"]
    override_provider(Container.language_model, fake_language_model)
    model = Container.language_model()
    assert model is fake_language_model
    assert (await model.generate_text(prompt="x")).text == "scripted"


def test_override_is_undone_when_the_test_ends(pytester: pytest.Pytester) -> None:
    # Its own session, so the order of the two inner tests is fixed whatever runs around it.
    pytester.makepyfile(
        """
        from dependency_injector import containers, providers

        from aigateway_sdk import AiGatewayBinding, GatewayLanguageModel

        pytest_plugins = ["aigateway_sdk.pytest_plugin"]


        class Container(containers.DeclarativeContainer):
            plain = providers.Object("the real model")
            binding = AiGatewayBinding(account_id="acct", api_token="tok")
            language_model = binding.model("@cf/meta/llama-3.1-8b-instruct")


        container = Container()  # built at import, before any test overrides anything


        def test_overrides(fake_language_model, override_provider):
            override_provider(Container.plain, fake_language_model)
            override_provider(Container.language_model, fake_language_model)
            assert Container.plain() is fake_language_model
            assert container.language_model() is fake_language_model


        def test_override_was_undone():
            assert Container.plain() == "the real model"
            assert isinstance(container.language_model(), GatewayLanguageModel)
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


# -- loaded by `pip install` alone --------------------------------------------------------------


def test_the_plugin_loads_with_no_configuration(pytester: pytest.Pytester) -> None:
    # No conftest.py, no `pytest_plugins`: the `pytest11` entry point loads the plugin. A test
    # that asks for none of its fixtures loads nothing of the SDK beyond the plugin, and the
    # marker is registered, so `--strict-markers` accepts it.
    pytester.makepyfile(
        test_plain="""
        import sys

        import pytest


        def test_nothing_is_loaded_until_asked_for():
            for heavy in ("aigateway_sdk.local", "aigateway_sdk.testing",
                          "aigateway_sdk.cassettes.cassette", "aigateway_sdk.binding"):
                assert heavy not in sys.modules, heavy


        def test_a_fixture(fake_language_model, fake_embedding_model):
            assert fake_language_model.model_id
            assert fake_embedding_model.model_id


        @pytest.mark.cassette("named", mode="record")
        def test_the_marker_is_known(cassette):
            assert cassette.path.name == "named.json"
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=3)
    assert (pytester.path / "cassettes" / "test_plain" / "named.json").is_file()


def test_the_option_and_the_marker_are_documented(pytester: pytest.Pytester) -> None:
    assert "--cassette-mode" in pytester.runpytest_inprocess("--help").stdout.str()
    markers = pytester.runpytest_inprocess("--markers").stdout.str()
    assert "@pytest.mark.cassette(name=None, *, mode=None, match=None" in markers


# -- the cassette fixture ---------------------------------------------------------------------

CASSETTE_TEST = """
import httpx
import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def answer(request):
    {answer}


@pytest.mark.cassette(match=("method", "path"))
async def test_calls(cassette):
    async with httpx.AsyncClient(transport=cassette.wrap(httpx.MockTransport(answer))) as c:
        reply = await c.post("http://api.test/v1/x", json={{"ignored": "by match"}})
    assert reply.json() == {{"answer": 42}}


@pytest.mark.parametrize("case", ["a/b", "c d"])
async def test_named(cassette, case):
    async with httpx.AsyncClient(transport=cassette.wrap(httpx.MockTransport(answer))) as c:
        reply = await c.get("http://api.test/v1/" + case.replace(" ", ""))
    assert reply.json() == {{"answer": 42}}
"""


def test_record_then_replay_beside_the_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIGATEWAY_CASSETTE_MODE", raising=False)
    real = 'return httpx.Response(200, json={"answer": 42})'
    pytester.makepyfile(test_recorded=CASSETTE_TEST.format(answer=real))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--cassette-mode=record")
    result.assert_outcomes(passed=3)
    folder = pytester.path / "cassettes" / "test_recorded"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "test_calls.json",
        "test_named[a_b]-asyncio.json",
        "test_named[c_d]-asyncio.json",
    ] or all(n.endswith(".json") for n in names)
    assert len(names) == 3
    # The network gone: replay (from the environment variable) answers from the files.
    pytester.makepyfile(
        test_recorded=CASSETTE_TEST.format(answer="raise AssertionError('network used')")
    )
    monkeypatch.setenv("AIGATEWAY_CASSETTE_MODE", "replay")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    # A cassette missing in replay mode says how to record it.
    for path in folder.iterdir():
        path.unlink()
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*does not exist (mode replay)*--cassette-mode=once*"])


def test_the_mode_comes_from_option_environment_marker_then_ci(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aigateway_sdk.pytest_plugin import cassette_mode

    config = request.config
    if config.getoption("--cassette-mode"):
        pytest.skip("this run sets --cassette-mode for every test")
    monkeypatch.delenv("AIGATEWAY_CASSETTE_MODE", raising=False)
    monkeypatch.setenv("CI", "true")
    assert cassette_mode(config) == "replay"  # CI never records unless told to
    monkeypatch.setenv("CI", "")
    assert cassette_mode(config) == "once"
    assert cassette_mode(config, "record") == "record"  # the marker's
    monkeypatch.setenv("AIGATEWAY_CASSETTE_MODE", "new_episodes")
    assert cassette_mode(config, "record") == "new_episodes"  # the environment wins
    monkeypatch.setenv("AIGATEWAY_CASSETTE_MODE", "sometimes")
    with pytest.raises(pytest.UsageError, match="AIGATEWAY_CASSETTE_MODE"):
        cassette_mode(config)


# -- the local gateway fixtures ---------------------------------------------------------------


def test_one_local_gateway_serves_the_whole_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        from aigateway_sdk import ModelParameters

        pytestmark = pytest.mark.anyio
        SEEN = []
        EMBEDDER = "@cf/baai/bge-base-en-v1.5"


        @pytest.fixture
        def anyio_backend():
            return "asyncio"


        async def test_first(local_gateway, local_gateway_binding):
            SEEN.append(local_gateway)
            async with local_gateway_binding as binding:
                lm = binding.model("@cf/meta/llama-3.1-8b-instruct", ModelParameters(max_tokens=5))
                assert (await lm.generate_text(prompt="hi")).text


        async def test_second(local_gateway, local_gateway_binding):
            SEEN.append(local_gateway)
            assert SEEN[0] is SEEN[1]  # one gateway for the session
            assert local_gateway_binding.base_url == local_gateway.data_url
            async with local_gateway_binding as binding:
                assert (await binding.embedding_model(EMBEDDER).embed("x")).vectors
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


# -- docs/testing.md ----------------------------------------------------------------------------


def doc_test_files() -> dict[str, str]:
    """The examples of docs/testing.md that are whole test files (first line `# tests/...`)."""
    import re

    doc = (Path(__file__).parents[2] / "docs" / "testing.md").read_text()
    blocks = re.findall(r"```python\n(# tests/(test_\w+)\.py\n.*?)```", doc, re.S)
    return {name: code for code, name in blocks}


def test_the_docs_examples_record_then_replay(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, local_gateway: Any
) -> None:
    files = doc_test_files()
    assert set(files) == {"test_greeting", "test_summaries"}
    pytester.makepyfile(**files)
    # Recorded "from Cloudflare" (here the local gateway), with credentials in the environment.
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct-docs-1234")
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "docs-token-5678")
    monkeypatch.setenv("CLOUDFLARE_GATEWAY_TOKEN", "docs-gateway-token-9012")
    monkeypatch.setenv("AIGATEWAY_BASE_URL", local_gateway.data_url)
    monkeypatch.delenv("AIGATEWAY_CASSETTE_MODE", raising=False)
    monkeypatch.delenv("CI", raising=False)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
    recorded = pytester.path / "cassettes" / "test_summaries" / "test_summary.json"
    text = recorded.read_text()
    assert "acct-docs-1234" not in text
    assert "docs-token-5678" not in text
    assert "docs-gateway-token-9012" not in text
    assert "/v1/ACCOUNT_ID/default/workers-ai/" in text
    # Replayed on CI: no credentials, no base URL (Cloudflare's), no network.
    for name in (
        "CLOUDFLARE_ACCOUNT_ID",
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_GATEWAY_TOKEN",
        "AIGATEWAY_BASE_URL",
    ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("CI", "true")
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
    assert recorded.read_text() == text  # replay never writes
