"""AiGateway specs: defaults, id derivation and every validation rule, each naming its field."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from aigateway_sdk.control.spec import (
    SETTINGS_RULES,
    AiGateway,
    GatewaySettings,
    check_settings_json,
    gateway_id_from_name,
)
from aigateway_sdk.validation import ValidationError


def fields_of(error: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(error.value.fields)


def test_example_from_the_issue_builds_with_every_value() -> None:
    spec = AiGateway(
        "Gateway",
        id="prod-gateway",
        cache_ttl=300,
        cache_invalidate_on_update=True,
        rate_limiting_interval=60,
        rate_limiting_limit=100,
        rate_limiting_technique="sliding",
        collect_logs=True,
        log_management=100_000,
        log_management_strategy="DELETE_OLDEST",
        authentication=True,
        retry_max_attempts=3,
        retry_delay=250,
        retry_backoff="exponential",
    )
    body = spec.create_json()
    assert body["id"] == "prod-gateway"
    assert body["rate_limiting_technique"] == "sliding"
    assert body["retry_backoff"] == "exponential"
    assert set(body) == {"id", *SETTINGS_RULES}
    assert set(spec.settings_json()) == set(SETTINGS_RULES)  # PUT body: no id


def test_defaults_match_a_new_cloudflare_gateway() -> None:
    assert GatewaySettings().settings_json() == {
        "cache_ttl": 0,
        "cache_invalidate_on_update": False,
        "collect_logs": True,
        "rate_limiting_interval": 0,
        "rate_limiting_limit": 0,
        "rate_limiting_technique": "fixed",
        "authentication": False,
        "log_management": None,
        "log_management_strategy": None,
        "logpush": False,
        "logpush_public_key": None,
        "retry_max_attempts": None,
        "retry_delay": None,
        "retry_backoff": None,
        "spend_limits": None,
    }


def test_spec_is_frozen_and_hashable() -> None:
    spec = AiGateway("Gateway", id="g")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        spec.cache_ttl = 5  # type: ignore[misc]
    assert hash(spec) == hash(AiGateway("Gateway", id="g"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Gateway", "gateway"),
        ("Prod Gateway", "prod-gateway"),
        ("  my__gw!! v2 ", "my__gw-v2"),
        ("API/Prod.EU", "api-prod-eu"),
        ("x" * 80, "x" * 64),
        ("a" * 63 + " b", "a" * 63),
    ],
)
def test_id_is_derived_from_the_name_when_not_given(name: str, expected: str) -> None:
    assert gateway_id_from_name(name) == expected
    assert AiGateway(name).id == expected


def test_explicit_id_wins_over_the_name() -> None:
    assert AiGateway("Gateway", id="prod-gateway").id == "prod-gateway"


def test_name_without_letters_cannot_give_an_id() -> None:
    with pytest.raises(ValidationError) as error:
        AiGateway("!!!")
    assert fields_of(error) == {"id"}
    assert "pass id=" in str(error.value)


def test_empty_name_is_rejected() -> None:
    with pytest.raises(ValidationError) as error:
        AiGateway("", id="ok")
    assert fields_of(error) == {"name"}


@pytest.mark.parametrize(
    "bad_id",
    ["", "UPPER", "has space", "-lead", "trail-", "double--dash", "dot.id", "x" * 65, 12],
)
def test_bad_ids_are_rejected_naming_id(bad_id: Any) -> None:
    with pytest.raises(ValidationError) as error:
        AiGateway("Gateway", id=bad_id)
    assert fields_of(error) == {"id"}


@pytest.mark.parametrize("good_id", ["a", "a_b", "a-b-c", "0", "x" * 64, "my_gw-2"])
def test_good_ids_are_accepted(good_id: str) -> None:
    assert AiGateway("Gateway", id=good_id).id == good_id


# (field, bad value, words the message must contain)
BAD_VALUES: list[tuple[str, Any, str]] = [
    ("cache_ttl", -1, ">= 0"),
    ("cache_ttl", 1.5, "integer"),
    ("cache_ttl", "300", "integer"),
    ("cache_ttl", True, "integer"),
    ("rate_limiting_interval", -1, ">= 0"),
    ("rate_limiting_limit", -5, ">= 0"),
    ("rate_limiting_limit", "10", "integer"),
    ("rate_limiting_technique", "leaky", "one of"),
    ("rate_limiting_technique", 1, "string"),
    ("log_management", 9_999, ">= 10000"),
    ("log_management", 10_000_001, "<= 10000000"),
    ("log_management_strategy", "delete_oldest", "one of"),
    ("logpush_public_key", "short", "at least 16"),
    ("logpush_public_key", "k" * 1025, "at most 1024"),
    ("retry_max_attempts", 0, ">= 1"),
    ("retry_max_attempts", 6, "<= 5"),
    ("retry_delay", -1, ">= 0"),
    ("retry_delay", 5_001, "<= 5000"),
    ("retry_backoff", "random", "one of"),
    ("cache_invalidate_on_update", 1, "boolean"),
    ("collect_logs", "yes", "boolean"),
    ("authentication", 0, "boolean"),
    ("logpush", "false", "boolean"),
]


@pytest.mark.parametrize(("field", "value", "words"), BAD_VALUES)
def test_each_rule_rejects_a_bad_value_naming_the_field(field: str, value: Any, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        AiGateway("Gateway", id="g", **{field: value})
    assert [e.path for e in error.value.errors] == [(field,)]
    assert words in error.value.errors[0].message
    assert field in str(error.value)
    # the server-side check of JSON bodies uses the same rules
    problems = check_settings_json({field: value}, creating=False)
    assert [e.path for e in problems] == [(field,)]


NON_NULLABLE = ["cache_invalidate_on_update", "collect_logs", "authentication", "logpush"]
NULLABLE = [name for name in SETTINGS_RULES if name not in NON_NULLABLE]


@pytest.mark.parametrize("field", NON_NULLABLE)
def test_booleans_are_not_nullable(field: str) -> None:
    with pytest.raises(ValidationError) as error:
        AiGateway("Gateway", id="g", **{field: None})  # type: ignore[arg-type]
    assert [e.path for e in error.value.errors] == [(field,)]
    assert "null" in error.value.errors[0].message


@pytest.mark.parametrize("field", NULLABLE)
def test_nullable_fields_accept_none(field: str) -> None:
    spec = AiGateway("Gateway", id="g", **{field: None})  # type: ignore[arg-type]
    assert getattr(spec, field) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cache_ttl", 0),
        ("log_management", 10_000),
        ("log_management", 10_000_000),
        ("retry_max_attempts", 1),
        ("retry_max_attempts", 5),
        ("retry_delay", 0),
        ("retry_delay", 5_000),
        ("logpush_public_key", "k" * 16),
        ("logpush_public_key", "k" * 1024),
    ],
)
def test_boundaries_are_inclusive(field: str, value: Any) -> None:
    assert getattr(AiGateway("Gateway", id="g", **{field: value}), field) == value


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as error:
        AiGateway(
            "Gateway",
            id="Bad Id",
            cache_ttl=-1,
            retry_backoff="x",  # type: ignore[arg-type]
            collect_logs=None,  # type: ignore[arg-type]
        )
    assert fields_of(error) == {"id", "cache_ttl", "retry_backoff", "collect_logs"}


def test_evolve_revalidates() -> None:
    spec = AiGateway("Gateway", id="g")
    assert attrs.evolve(spec, cache_ttl=60).cache_ttl == 60
    with pytest.raises(ValidationError):
        attrs.evolve(spec, cache_ttl=-60)


def test_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        AiGateway("Gateway", cache_tll=5)  # type: ignore[call-arg]


def test_from_json_on_create_requires_cloudflare_required_fields() -> None:
    with pytest.raises(ValidationError) as error:
        GatewaySettings.from_json({"id": "g", "cache_ttl": 5}, creating=True)
    assert fields_of(error) == {
        "cache_invalidate_on_update",
        "collect_logs",
        "rate_limiting_interval",
        "rate_limiting_limit",
    }
    settings = GatewaySettings.from_json({"cache_ttl": 5})
    assert settings == GatewaySettings(cache_ttl=5)


def test_settings_drops_name_and_id() -> None:
    spec = AiGateway("Gateway", id="g", cache_ttl=9)
    assert spec.settings() == GatewaySettings(cache_ttl=9)
    assert type(spec.settings()) is GatewaySettings


def test_repr_reads_like_the_call_that_builds_it() -> None:
    spec = AiGateway("Gateway", id="prod-gateway", cache_ttl=300, rate_limiting_technique=None)
    text = repr(spec)
    assert (
        text
        == "AiGateway('Gateway', id='prod-gateway', cache_ttl=300, rate_limiting_technique=None)"
    )
    assert eval(text, {"AiGateway": AiGateway}) == spec
