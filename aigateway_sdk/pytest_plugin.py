"""pytest fixtures for code that uses the SDK. Opt in from a conftest.py:

    pytest_plugins = ["aigateway_sdk.pytest_plugin"]

    def test_handler(fake_language_model, override_provider):
        fake_language_model.script = ["hello"]  # or build your own FakeLanguageModel
        override_provider(Container.language_model, fake_language_model)
        ...

Overrides made through `override_provider` are undone when the test ends. The provider may be
the class's (`Container.language_model`) or a built container's (`container.language_model`);
the SDK's providers follow a class override even in containers built before the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from aigateway_sdk.testing import FakeLanguageModel, override_model


@pytest.fixture
def fake_language_model() -> FakeLanguageModel:
    """A fresh fake answering "ok" until scripted otherwise."""
    return FakeLanguageModel()


@pytest.fixture
def override_provider() -> Iterator[Callable[[Any, Any], Any]]:
    """`override_provider(provider, model)`: swap a container provider for the test's duration."""
    with ExitStack() as stack:

        def override(provider: Any, model: Any) -> Any:
            return stack.enter_context(override_model(provider, model))

        yield override
