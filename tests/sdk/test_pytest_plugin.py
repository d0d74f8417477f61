"""The opt-in pytest plugin overrides a provider for one test and undoes it afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from dependency_injector import containers, providers

from aigateway_sdk.testing import FakeLanguageModel

pytest_plugins = ["aigateway_sdk.pytest_plugin"]
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


def test_override_was_undone() -> None:
    assert Container.language_model() == "the real model"
