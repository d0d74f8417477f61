"""The opt-in pytest plugin overrides a provider for one test and undoes it afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from dependency_injector import containers, providers

from aigateway_sdk.testing import FakeLanguageModel

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
