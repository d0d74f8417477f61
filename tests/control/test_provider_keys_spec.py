"""`ProviderKey` as a value: checked when built, its secret a source read only on demand and
never in a repr, `str`, `to_json` or error message; plans are pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aigateway_sdk.control import AiGateway
from aigateway_sdk.control.provider_keys import ProviderConfig, ProviderKey, from_env
from aigateway_sdk.control.provider_keys_client import (
    CreateKey,
    KeyUpToDate,
    ReplaceKey,
    RotateKey,
    plan_key,
)
from aigateway_sdk.validation import ValidationError

SECRET = "sk-proj-spec-test-0123456789abcdef"


def config(**fields: object) -> ProviderConfig:
    values: dict[str, object] = {
        "id": "k1",
        "provider_slug": "openai",
        "alias": "default",
        "default_config": True,
        "gateway_id": "g",
        "modified_at": datetime(2026, 1, 1, tzinfo=UTC),
        "secret_id": "s1",
        "secret_preview": "sk-p...cdef",
    }
    values.update(fields)
    return ProviderConfig(**values)  # type: ignore[arg-type]


def test_the_secret_is_read_only_when_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BYOK_TEST_KEY", raising=False)
    key = ProviderKey("openai", secret=from_env("BYOK_TEST_KEY"))  # not set yet: fine
    with pytest.raises(ValidationError) as caught:
        key.resolve_secret()
    assert "BYOK_TEST_KEY" in str(caught.value)
    monkeypatch.setenv("BYOK_TEST_KEY", SECRET)
    assert key.resolve_secret() == SECRET
    calls: list[int] = []

    def source() -> str:
        calls.append(1)
        return SECRET

    by_callable = ProviderKey("openai", secret=source)
    assert calls == []
    assert by_callable.resolve_secret() == SECRET
    assert calls == [1]


def test_the_secret_is_in_no_repr_str_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BYOK_TEST_KEY", SECRET)
    for key in (
        ProviderKey("openai", secret=from_env("BYOK_TEST_KEY"), gateway="g"),
        ProviderKey("openai", "prod", secret=lambda: SECRET, rate_limit=5, rate_limit_period=60),
    ):
        key.resolve_secret()
        for text in (repr(key), str(key), str(key.to_json()), str(key.settings)):
            assert SECRET not in text
    assert repr(ProviderKey("openai", secret=from_env("BYOK_TEST_KEY"), gateway="g")) == (
        "ProviderKey('openai', secret=from_env('BYOK_TEST_KEY'), gateway='g')"
    )


def test_a_literal_secret_is_refused_without_quoting_it() -> None:
    with pytest.raises(ValidationError) as caught:
        ProviderKey("openai", secret=SECRET)  # type: ignore[arg-type]
    assert caught.value.fields == ("secret",) or "secret" in caught.value.fields
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value)


def test_a_bad_source_fails_without_its_message() -> None:
    def leaky() -> str:
        raise RuntimeError(f"vault said no to {SECRET}")

    with pytest.raises(ValidationError) as caught:
        ProviderKey("openai", secret=leaky).resolve_secret()
    assert "RuntimeError" in str(caught.value)
    assert SECRET not in str(caught.value)
    bad_value = ProviderKey("openai", secret=lambda: f"{SECRET}\n")
    with pytest.raises(ValidationError) as caught:
        bad_value.resolve_secret()
    assert SECRET not in str(caught.value)


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        ProviderKey(
            "Open AI",
            "bad alias",
            default="yes",  # type: ignore[arg-type]
            secret=lambda: SECRET,
            rate_limit=-1,
            rate_limit_period=60,
        )
    assert set(caught.value.fields) >= {"provider", "alias", "default", "rate_limit"}
    with pytest.raises(ValidationError) as caught:
        ProviderKey("openai", secret=lambda: SECRET, rate_limit=5)
    assert "rate_limit_period" in caught.value.fields


def test_defaults_and_gateway_from_a_spec() -> None:
    assert ProviderKey("openai", secret=lambda: SECRET).default is True
    assert ProviderKey("openai", "prod", secret=lambda: SECRET).default is False
    spec = AiGateway("Prod", id="prod-gateway")
    key = ProviderKey("openai", secret=lambda: SECRET, gateway=spec)  # type: ignore[arg-type]
    assert key.gateway == "prod-gateway"


def test_plans_are_pure_and_hold_no_secret() -> None:
    key = ProviderKey("openai", secret=lambda: SECRET)
    assert isinstance(plan_key(key, "g", None), CreateKey)
    assert isinstance(plan_key(key, "g", config()), KeyUpToDate)
    assert isinstance(plan_key(key, "g", config(), rotate=True), RotateKey)
    replaced = plan_key(key, "g", config(default_config=False))
    assert isinstance(replaced, ReplaceKey)
    assert [str(c) for c in replaced.changes] == ["default_config: False -> True"]
    for plan in (replaced, plan_key(key, "g", None)):
        assert SECRET not in plan.describe()
        assert SECRET not in str(plan.to_json())
        assert SECRET not in repr(plan)
