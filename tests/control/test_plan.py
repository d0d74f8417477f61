"""Plans are pure: the diff between a spec and the gateway as it is."""

from __future__ import annotations

from datetime import UTC, datetime

from aigateway_sdk.control.models import Gateway
from aigateway_sdk.control.plan import (
    Create,
    FieldChange,
    NoChange,
    Update,
    diff_settings,
    plan_for,
)
from aigateway_sdk.control.spec import AiGateway, GatewaySettings

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def existing(**settings: object) -> Gateway:
    return Gateway(id="g", created_at=NOW, modified_at=NOW, **settings)  # type: ignore[arg-type]


def test_absent_gateway_plans_a_create_listing_non_default_settings() -> None:
    spec = AiGateway("G", id="g", cache_ttl=300, authentication=True)
    plan = plan_for(spec, None)
    assert isinstance(plan, Create)
    assert plan.action == "create"
    assert plan.changes == (
        FieldChange("cache_ttl", 0, 300),
        FieldChange("authentication", False, True),
    )
    assert plan.has_changes


def test_changed_fields_only_in_field_order() -> None:
    spec = AiGateway("G", id="g", cache_ttl=300, rate_limiting_limit=100, retry_backoff="linear")
    current = existing(cache_ttl=60, rate_limiting_limit=100)
    plan = plan_for(spec, current)
    assert isinstance(plan, Update)
    assert plan.current is current
    assert plan.changes == (
        FieldChange("cache_ttl", 60, 300),
        FieldChange("retry_backoff", None, "linear"),
    )
    assert "cache_ttl: 60 -> 300" in plan.describe()
    assert plan.to_json()["changes"][0] == {"field": "cache_ttl", "old": 60, "new": 300}


def test_identical_settings_plan_nothing() -> None:
    spec = AiGateway("G", id="g", cache_ttl=60)
    plan = plan_for(spec, existing(cache_ttl=60))
    assert isinstance(plan, NoChange)
    assert plan.changes == ()
    assert not plan.has_changes
    assert plan.to_json()["action"] == "no-change"


def test_null_versus_zero_is_a_change() -> None:
    changes = diff_settings(GatewaySettings(cache_ttl=None), GatewaySettings(cache_ttl=0))
    assert changes == (FieldChange("cache_ttl", None, 0),)
