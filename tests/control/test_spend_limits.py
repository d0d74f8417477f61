"""Spend limits as code: built and checked in Python, planned as one readable change, applied
in place against the local gateway, loaded from TOML."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest

from aigateway_sdk.contract.spend import SpendFilter, SpendLimits, SpendPartition, SpendRule
from aigateway_sdk.control import AiGateway, GatewayAdmin, NoChange, Update
from aigateway_sdk.control.loader import parse_toml
from aigateway_sdk.control.models import Gateway
from aigateway_sdk.control.plan import FieldChange, plan_for
from aigateway_sdk.local import LocalGateway
from aigateway_sdk.validation import ValidationError

from .conftest import MODEL, TOKEN

NOW = datetime(2026, 1, 1, tzinfo=UTC)
DAILY = SpendRule(limit=5, window=86_400, metadata={"user_id": SpendPartition()})
LIMITS = SpendLimits(rules=[DAILY, SpendRule(limit=50, window=3600, model=SpendFilter([MODEL]))])


def existing(**settings: object) -> Gateway:
    return Gateway(id="g", created_at=NOW, modified_at=NOW, **settings)  # type: ignore[arg-type]


def test_a_rule_reads_like_its_call_and_writes_cloudflares_json() -> None:
    assert (
        repr(DAILY) == "SpendRule(limit=5.0, window=86400, metadata={'user_id': SpendPartition()})"
    )
    assert DAILY.to_json() == {
        "limit": 5.0,
        "limitType": "cost",
        "window": 86_400,
        "technique": "fixed",
        "enabled": True,
        "metadata": {"user_id": {"mode": "partition"}},
    }
    assert SpendLimits.from_json(LIMITS.to_json()) == LIMITS
    spec = AiGateway("G", id="g", spend_limits=LIMITS)
    assert spec.settings_json()["spend_limits"] == LIMITS.to_json()
    assert AiGateway("G", id="g", spend_limits=LIMITS.to_json()) == spec  # JSON is accepted


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: SpendRule(limit=-1, window=60), "limit"),
        (lambda: SpendRule(limit=float("inf"), window=60), "limit"),
        (lambda: SpendRule(limit=1, window=0), "window"),
        (lambda: SpendRule(limit=1, window=60, technique="leaky"), "technique"),  # type: ignore[arg-type]
        (lambda: SpendRule(limit=1, window=60, id=""), "id"),
        (lambda: SpendRule(limit=1, window=60, model=SpendFilter([])), "model.values"),
        (lambda: SpendRule(limit=1, window=60, model=SpendPartition()), "model.mode"),  # type: ignore[arg-type]
        (lambda: SpendLimits(rules=[SpendRule(limit=1, window=60)] * 21), "rules"),
    ],
)
def test_a_bad_rule_fails_to_build_naming_the_field(build: object, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        build()  # type: ignore[operator]
    assert error.value.fields[0] == field


def test_a_bad_rule_given_as_json_names_its_place_in_the_spec() -> None:
    with pytest.raises(ValidationError) as error:
        AiGateway("G", spend_limits={"rules": [{"limit": 1, "limitType": "cost", "window": 0}]})
    assert error.value.fields == ("spend_limits.rules[0].window",)


def test_two_rules_with_one_id_fail_to_build_naming_the_second() -> None:
    rules = [SpendRule(limit=1, window=60, id="daily"), SpendRule(limit=2, window=60, id="daily")]
    with pytest.raises(ValidationError) as error:
        SpendLimits(rules=rules)
    assert error.value.fields == ("rules[1].id",)
    assert "rules[0]" in str(error.value)
    as_json = {"rules": [rule.to_json() for rule in rules]}
    with pytest.raises(ValidationError) as error:
        AiGateway("G", spend_limits=as_json)
    assert error.value.fields == ("spend_limits.rules[1].id",)


def test_a_spend_limits_change_is_one_readable_field_change() -> None:
    plan = plan_for(AiGateway("G", id="g", spend_limits=LIMITS), existing())
    assert isinstance(plan, Update)
    assert plan.changes == (FieldChange("spend_limits", None, LIMITS),)
    assert str(plan.changes[0]) == (
        "spend_limits: None -> [2 rules: $5 per 86400s fixed, by metadata user_id; "
        f"$50 per 3600s fixed, model in ['{MODEL}']]"
    )
    assert plan.to_json()["changes"][0]["new"] == LIMITS.to_json()


def test_ids_cloudflare_may_assign_and_empty_limits_are_no_change() -> None:
    with_ids = attrs.evolve(
        LIMITS, rules=[attrs.evolve(r, id=f"r{i}") for i, r in enumerate(LIMITS.rules)]
    )
    assert isinstance(
        plan_for(AiGateway("G", id="g", spend_limits=LIMITS), existing(spend_limits=with_ids)),
        NoChange,
    )
    assert isinstance(
        plan_for(AiGateway("G", id="g"), existing(spend_limits=SpendLimits())), NoChange
    )
    renamed = attrs.evolve(LIMITS, rules=[attrs.evolve(DAILY, id="other"), LIMITS.rules[1]])
    assert isinstance(
        plan_for(AiGateway("G", id="g", spend_limits=renamed), existing(spend_limits=with_ids)),
        Update,
    )
    disabled = attrs.evolve(LIMITS, enabled=False)
    assert isinstance(
        plan_for(AiGateway("G", id="g", spend_limits=disabled), existing(spend_limits=LIMITS)),
        Update,
    )


def test_toml_declares_spend_limits_in_cloudflares_shape() -> None:
    (spec,) = parse_toml(
        """
        [gateway]
        id = "prod"

        [[gateway.spend_limits.rules]]
        limit = 5
        limitType = "cost"
        window = 86400
        metadata = { user_id = { mode = "partition" } }

        [[gateway.spend_limits.rules]]
        limit = 50
        limitType = "cost"
        window = 3600
        model = { mode = "filter", values = ["@cf/meta/llama-3.1-8b-instruct"] }
        """
    )
    assert spec.spend_limits == LIMITS
    with pytest.raises(ValidationError) as error:
        parse_toml('[gateway]\nid = "p"\n[[gateway.spend_limits.rules]]\nlimit = 5\nwindow = 60\n')
    assert error.value.fields == ("gateway.spend_limits.rules[0].limitType",)


@pytest.mark.anyio
async def test_spend_limits_are_planned_applied_in_place_and_read_back(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    spec = AiGateway("Budgeted", id=gateway_id, spend_limits=SpendLimits(rules=[DAILY]))
    async with GatewayAdmin(account, TOKEN, gw.api_url) as admin:
        created = await admin.apply(spec)
        assert created.gateway.spend_limits == spec.spend_limits
        changed = attrs.evolve(spec, spend_limits=LIMITS)
        plan = await admin.plan(changed)
        assert isinstance(plan, Update)
        assert [change.field for change in plan.changes] == ["spend_limits"]
        updated = await admin.apply(changed)
        assert updated.action == "updated"
        assert updated.gateway.created_at == created.gateway.created_at
        assert (await admin.get(gateway_id)).spend_limits == LIMITS
        assert (await admin.apply(changed)).action == "unchanged"
        cleared = await admin.apply(attrs.evolve(changed, spend_limits=None))
        assert cleared.gateway.spend_limits is None
