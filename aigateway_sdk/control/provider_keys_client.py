"""`ProviderKeysClient`: one gateway's provider keys (BYOK) over the control plane, and plan /
apply / destroy of `ProviderKey` specs.

    async with GatewayAdmin(account_id, api_token) as admin:
        keys = admin.provider_keys("prod-gateway")
        print((await keys.plan(OpenAI)).describe())
        await keys.apply(OpenAI)                # creates it when missing
        await keys.apply(OpenAI, rotate=True)   # sends the current secret (PUT)

A secret cannot be read back, so a plan never compares it: an existing key whose settings
match is `NoChange` unless `rotate=True`. Settings cannot change in place (Cloudflare's `PUT`
replaces the secret only), so a key whose settings differ is replaced: deleted, then created
again with the secret. The secret source is called only by `apply` (create, replace, rotate).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

import attrs

from aigateway_sdk.contract.provider_keys import LIST_MAX_PER_PAGE, SETTINGS_FIELDS
from aigateway_sdk.control._api import ControlApi, classify_create, deleted, iterate_pages, segment
from aigateway_sdk.control._plan_base import PlanBase
from aigateway_sdk.control.provider_keys import ProviderConfig, ProviderKey
from aigateway_sdk.errors import AiError, Conflict, NotFound
from aigateway_sdk.validation import FieldError, ValidationError

KeyAction = Literal["create", "replace", "rotate", "no-change"]
KeyValue = float | str | bool | None

_APPLY_ATTEMPTS = 3


@attrs.frozen(slots=True)
class KeyChange:
    """One setting of a key that differs: `field` goes from `old` to `new`."""

    field: str
    old: KeyValue
    new: KeyValue

    def __str__(self) -> str:
        return f"{self.field}: {self.old!r} -> {self.new!r}"

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@attrs.frozen(slots=True, kw_only=True)
class KeyPlan(PlanBase):
    """What applying a `ProviderKey` would do: `create`, `replace` (settings differ),
    `rotate` (asked for) or `no-change`. Holds no secret."""

    action: ClassVar[KeyAction] = "no-change"

    key: ProviderKey
    gateway_id: str
    current: ProviderConfig | None = None
    changes: tuple[KeyChange, ...] = ()

    def _subject_json(self) -> dict[str, Any]:
        return {
            "gateway_id": self.gateway_id,
            "provider": self.key.provider,
            "alias": self.key.alias,
        }

    def _head(self) -> str:
        name, gateway = self.key.name, self.gateway_id
        return {
            "create": f"+ create provider key {name!r} on gateway {gateway!r}",
            "replace": f"-/+ replace provider key {name!r} on gateway {gateway!r}",
            "rotate": f"~ rotate the secret of provider key {name!r} on gateway {gateway!r}",
            "no-change": (
                f"= provider key {name!r} on gateway {gateway!r} is up to date "
                "(its secret is not compared: apply with rotate to send it again)"
            ),
        }[self.action]


@attrs.frozen(slots=True, kw_only=True)
class CreateKey(KeyPlan):
    action: ClassVar[KeyAction] = "create"


@attrs.frozen(slots=True, kw_only=True)
class ReplaceKey(KeyPlan):
    action: ClassVar[KeyAction] = "replace"
    current: ProviderConfig


@attrs.frozen(slots=True, kw_only=True)
class RotateKey(KeyPlan):
    action: ClassVar[KeyAction] = "rotate"
    current: ProviderConfig


@attrs.frozen(slots=True, kw_only=True)
class KeyUpToDate(KeyPlan):
    action: ClassVar[KeyAction] = "no-change"
    current: ProviderConfig


def diff_key(current: ProviderConfig, key: ProviderKey) -> tuple[KeyChange, ...]:
    old, new = current.settings.to_json(), key.settings.to_json()
    return tuple(
        KeyChange(name, old[name], new[name]) for name in SETTINGS_FIELDS if old[name] != new[name]
    )


def plan_key(
    key: ProviderKey, gateway_id: str, current: ProviderConfig | None, *, rotate: bool = False
) -> KeyPlan:
    """The plan that takes `current` (None: absent) to `key`. Pure."""
    if current is None:
        return CreateKey(key=key, gateway_id=gateway_id)
    changes = diff_key(current, key)
    if changes:
        return ReplaceKey(key=key, gateway_id=gateway_id, current=current, changes=changes)
    if rotate:
        return RotateKey(key=key, gateway_id=gateway_id, current=current)
    return KeyUpToDate(key=key, gateway_id=gateway_id, current=current)


@attrs.frozen(slots=True)
class KeyApplyResult:
    """What `apply` did and the key as it now is."""

    plan: KeyPlan
    config: ProviderConfig

    @property
    def changed(self) -> bool:
        return self.plan.has_changes

    def to_json(self) -> dict[str, Any]:
        return {**self.plan.to_json(), "config": self.config.to_json()}


class ProviderKeysClient:
    """The provider keys of gateway `gateway_id` (from `GatewayAdmin.provider_keys`)."""

    def __init__(self, api: ControlApi, gateway_id: str) -> None:
        self._api = api
        self.gateway_id = gateway_id
        self._path = f"/gateways/{segment(gateway_id)}/provider_configs"

    def list(self, *, per_page: int = LIST_MAX_PER_PAGE) -> AsyncIterator[ProviderConfig]:
        """Every key of the gateway, page after page (at most 100 a page, Cloudflare's cap)."""
        return iterate_pages(
            self._api,
            self._path,
            query=[],
            per_page=per_page,
            decode=ProviderConfig.from_api,
            what="provider config list",
        )

    async def find(self, provider: str, alias: str) -> ProviderConfig | None:
        """The key `provider/alias`, or None."""
        async for config in self.list():
            if config.provider_slug == provider and config.alias == alias:
                return config
        return None

    def _check_gateway(self, key: ProviderKey) -> None:
        if key.gateway is not None and key.gateway != self.gateway_id:
            raise ValidationError(
                [
                    FieldError(
                        ("gateway",),
                        f"is {key.gateway!r}, but this client manages {self.gateway_id!r}",
                    )
                ],
                what="provider key",
            )

    async def create(self, key: ProviderKey) -> ProviderConfig:
        """Store `key` (its secret source is called now); `AiError(Conflict)` when the alias
        is taken or the provider already has a default key."""
        self._check_gateway(key)
        return await self._post(key, key.resolve_secret())

    async def _post(self, key: ProviderKey, secret: str) -> ProviderConfig:
        envelope = await self._api.call(
            "POST", self._path, json_body=key.create_json(secret), classify=classify_create
        )
        return ProviderConfig.from_api(envelope.result)

    async def rotate(self, config: ProviderConfig | str, key: ProviderKey) -> ProviderConfig:
        """Give the stored key `config` (or its id) the secret of `key`, in place (PUT)."""
        key_id = config if isinstance(config, str) else config.id
        body = {"secret": key.resolve_secret()}
        envelope = await self._api.call("PUT", f"{self._path}/{segment(key_id)}", json_body=body)
        return ProviderConfig.from_api(envelope.result)

    async def delete(self, config: ProviderConfig | str) -> ProviderConfig:
        """Delete a stored key (or id); `AiError(NotFound)` when there is none."""
        key_id = config if isinstance(config, str) else config.id
        envelope = await self._api.call("DELETE", f"{self._path}/{segment(key_id)}")
        return ProviderConfig.from_api(envelope.result)

    async def plan(self, key: ProviderKey, *, rotate: bool = False) -> KeyPlan:
        """What `apply(key, rotate=...)` would do now (no secret is read)."""
        self._check_gateway(key)
        return plan_key(
            key, self.gateway_id, await self.find(key.provider, key.alias), rotate=rotate
        )

    async def apply(self, key: ProviderKey, *, rotate: bool = False) -> KeyApplyResult:
        """Make the stored key match `key`: create it, replace it (settings differ), rotate
        its secret (`rotate=True`) or leave it. A create that loses a race with another apply
        plans again."""
        attempt = 1
        while True:
            plan = await self.plan(key, rotate=rotate)
            try:
                return KeyApplyResult(plan, await self._carry_out(plan))
            except AiError as error:
                raced = isinstance(error.reason, Conflict | NotFound) and plan.has_changes
                if not raced or attempt >= _APPLY_ATTEMPTS:
                    raise
                attempt += 1

    async def _carry_out(self, plan: KeyPlan) -> ProviderConfig:
        if isinstance(plan, CreateKey):
            return await self.create(plan.key)
        if isinstance(plan, ReplaceKey):
            secret = plan.key.resolve_secret()  # read before anything is deleted
            await self.delete(plan.current)
            return await self._post(plan.key, secret)
        if isinstance(plan, RotateKey):
            return await self.rotate(plan.current, plan.key)
        assert plan.current is not None
        return plan.current

    async def destroy(self, key: ProviderKey) -> bool:
        """Delete the stored key `key` names. True if deleted, False if it was already gone."""
        self._check_gateway(key)
        current = await self.find(key.provider, key.alias)
        if current is None:
            return False
        return await deleted(self.delete(current))


__all__ = [
    "CreateKey",
    "KeyAction",
    "KeyApplyResult",
    "KeyChange",
    "KeyPlan",
    "KeyUpToDate",
    "ProviderKeysClient",
    "ReplaceKey",
    "RotateKey",
    "diff_key",
    "plan_key",
]
