"""Plans: what applying a spec would change, as values (`Create`, `Update`, `NoChange`).

Computing a plan is pure (`plan_for(spec, current)`); `GatewayAdmin.plan` fetches the current
gateway and calls it. Every setting is updated in place (PUT), so there is no "replace".

    match await admin.plan(Gateway):
        case Create(): ...
        case Update(changes=changes): ...
        case NoChange(): ...
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import attrs

from aigateway_sdk.contract.spend import SpendLimits
from aigateway_sdk.control._plan_base import PlanBase
from aigateway_sdk.control.models import Gateway
from aigateway_sdk.control.spec import SETTINGS_RULES, AiGateway, GatewaySettings

SettingValue = int | str | bool | SpendLimits | None
PlanAction = Literal["create", "update", "no-change"]


@attrs.frozen(slots=True)
class FieldChange:
    """One setting that differs: `field` goes from `old` to `new`."""

    field: str
    old: SettingValue
    new: SettingValue

    def __str__(self) -> str:
        return f"{self.field}: {_show(self.old)} -> {_show(self.new)}"

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "old": _json(self.old), "new": _json(self.new)}


def _show(value: SettingValue) -> str:
    """A setting as plans print it: spend limits as a summary of their rules."""
    if isinstance(value, SpendLimits):
        return f"[{value.describe()}]"
    return repr(value)


def _json(value: SettingValue) -> object:
    return value.to_json() if isinstance(value, SpendLimits) else value


@attrs.frozen(slots=True, kw_only=True)
class Plan(PlanBase):
    """What applying `spec` would do. Subclasses: `Create`, `Update`, `NoChange`.

    `changes` lists each setting that would change; for `Create`, every setting whose value
    differs from the default of a new gateway (its `old` is that default).
    """

    action: ClassVar[PlanAction]

    spec: AiGateway
    changes: tuple[FieldChange, ...] = ()
    current: Gateway | None = None

    @property
    def gateway_id(self) -> str:
        return self.spec.id

    def _subject_json(self) -> dict[str, Any]:
        return {"gateway_id": self.gateway_id, "name": self.spec.name}

    def _head(self) -> str:
        """The first line of what `aigateway gateways plan` prints."""
        return {
            "create": f"+ create gateway {self.gateway_id!r}",
            "update": f"~ update gateway {self.gateway_id!r} in place",
            "no-change": f"= gateway {self.gateway_id!r} is up to date",
        }[self.action]


@attrs.frozen(slots=True, kw_only=True)
class Create(Plan):
    """The gateway does not exist: it will be created with the spec's settings."""

    action: ClassVar[PlanAction] = "create"


@attrs.frozen(slots=True, kw_only=True)
class Update(Plan):
    """The gateway exists with different settings: they will be replaced in place (PUT)."""

    action: ClassVar[PlanAction] = "update"
    current: Gateway


@attrs.frozen(slots=True, kw_only=True)
class NoChange(Plan):
    """The gateway exists with exactly the spec's settings: nothing to do."""

    action: ClassVar[PlanAction] = "no-change"
    current: Gateway


def _same_spend_limits(old: SpendLimits | None, new: SpendLimits | None) -> bool:
    """Spend limits without rules are no spend limits; a rule the spec gives no `id` matches
    the current rule whatever id it has (Cloudflare may assign one: not established)."""
    if old is None or new is None:
        given = old if new is None else new
        return given is None or not given.rules
    if old.enabled != new.enabled or len(old.rules) != len(new.rules):
        return False
    return all(
        attrs.evolve(was, id=None) == want if want.id is None else was == want
        for was, want in zip(old.rules, new.rules, strict=True)
    )


def _same(name: str, old: SettingValue, new: SettingValue) -> bool:
    spend = (type(None), SpendLimits)
    if isinstance(old, spend) and isinstance(new, spend) and name == "spend_limits":
        return _same_spend_limits(old, new)
    return old == new


def diff_settings(current: GatewaySettings, desired: GatewaySettings) -> tuple[FieldChange, ...]:
    """Each setting whose value differs, in Cloudflare's field order."""
    changes = []
    for name in SETTINGS_RULES:
        old, new = getattr(current, name), getattr(desired, name)
        if not _same(name, old, new):
            changes.append(FieldChange(name, old, new))
    return tuple(changes)


def plan_for(spec: AiGateway, current: Gateway | None) -> Plan:
    """The plan that takes `current` (None: absent) to `spec`. Pure."""
    if current is None:
        return Create(spec=spec, changes=diff_settings(GatewaySettings(), spec))
    changes = diff_settings(current, spec)
    if changes:
        return Update(spec=spec, changes=changes, current=current)
    return NoChange(spec=spec, current=current)


__all__ = [
    "Create",
    "FieldChange",
    "NoChange",
    "Plan",
    "PlanAction",
    "SettingValue",
    "Update",
    "diff_settings",
    "plan_for",
]
