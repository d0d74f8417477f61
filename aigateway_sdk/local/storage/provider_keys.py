"""Stored provider keys (BYOK): in memory for the data plane's hot path, each change persisted
through the store's writer. Mutations run synchronously on the event loop, so the checks
("alias taken", "provider already has a default", "at most N keys") cannot race."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator

import attrs

from aigateway_sdk.contract.provider_keys import (
    DEFAULT_ALIAS,
    MAX_KEYS_PER_GATEWAY,
    ProviderKeySettings,
)
from aigateway_sdk.local.storage.keyrecord import ProviderKeyRecord
from aigateway_sdk.local.storage.schema import PROVIDER_KEYS
from aigateway_sdk.local.web.errors import CODE_ALREADY_EXISTS, CODE_INVALID, ApiError

Scope = tuple[str, str]


def load_all(conn: sqlite3.Connection) -> list[ProviderKeyRecord]:
    """A store job: every stored key."""
    rows = conn.execute(f"SELECT {PROVIDER_KEYS.names} FROM {PROVIDER_KEYS.name}")
    return [PROVIDER_KEYS.record(row) for row in rows]


def save(record: ProviderKeyRecord) -> Callable[[sqlite3.Connection], None]:
    def job(conn: sqlite3.Connection) -> None:
        conn.execute(PROVIDER_KEYS.insert(verb="INSERT OR REPLACE"), PROVIDER_KEYS.row(record))

    return job


def remove(record: ProviderKeyRecord) -> Callable[[sqlite3.Connection], None]:
    def job(conn: sqlite3.Connection) -> None:
        conn.execute(
            "DELETE FROM provider_keys WHERE account_id = ? AND gateway_id = ? AND id = ?",
            (record.account_id, record.gateway_id, record.id),
        )

    return job


class ProviderKeyRegistry:
    """Every gateway's keys, by scope then id (in creation order)."""

    def __init__(self, records: list[ProviderKeyRecord]) -> None:
        self._scopes: dict[Scope, dict[str, ProviderKeyRecord]] = {}
        for record in sorted(records, key=lambda r: (r.modified_at, r.id)):
            self._scopes.setdefault(record.scope, {})[record.id] = record

    def list(self, scope: Scope) -> list[ProviderKeyRecord]:
        return list(self._scopes.get(scope, {}).values())

    def get(self, scope: Scope, key_id: str) -> ProviderKeyRecord | None:
        return self._scopes.get(scope, {}).get(key_id)

    def secrets(self) -> Iterator[str]:
        for keys in self._scopes.values():
            for record in keys.values():
                yield record.secret

    def find(self, scope: Scope, provider: str, alias: str | None) -> ProviderKeyRecord | None:
        """The key a request for `provider` uses: the one named `alias`; with no alias, the
        provider's `default_config` key, else its `default` alias."""
        provider = provider.lower()
        held = self._scopes.get(scope, {}).values()
        keys = [r for r in held if r.settings.provider_slug == provider]
        if alias is not None:
            return next((r for r in keys if r.settings.alias == alias), None)
        chosen = next((r for r in keys if r.settings.default_config), None)
        return chosen or next((r for r in keys if r.settings.alias == DEFAULT_ALIAS), None)

    def _secret_of(self, account_id: str, secret_id: str) -> str | None:
        for (account, _gateway), keys in self._scopes.items():
            if account == account_id:
                for record in keys.values():
                    if record.secret_id == secret_id:
                        return record.secret
        return None

    def create(
        self,
        scope: Scope,
        settings: ProviderKeySettings,
        secret: str | None,
        secret_id: str | None,
        now: float,
    ) -> ProviderKeyRecord:
        """A new key. `secret` stores a new secret; without it, `secret_id` must name one this
        account already stores (the local stand-in for Cloudflare's Secrets Store)."""
        keys = self._scopes.setdefault(scope, {})
        for record in keys.values():
            held = record.settings
            if held.provider_slug != settings.provider_slug:
                continue
            if held.alias == settings.alias:
                raise ApiError(
                    409,
                    CODE_ALREADY_EXISTS,
                    f"Provider {settings.provider_slug!r} already has a key with alias "
                    f"{settings.alias!r}",
                    path=("alias",),
                )
            if held.default_config and settings.default_config:
                raise ApiError(
                    409,
                    CODE_ALREADY_EXISTS,
                    f"Provider {settings.provider_slug!r} already has a default key (alias "
                    f"{held.alias!r}): delete it first, or create this one with "
                    "default_config false",
                    path=("default_config",),
                )
        if len(keys) >= MAX_KEYS_PER_GATEWAY:
            raise ApiError(
                400, CODE_INVALID, f"A gateway can hold at most {MAX_KEYS_PER_GATEWAY} keys"
            )
        if secret is None:
            if secret_id is None:
                raise _secret_required()
            secret = self._secret_of(scope[0], secret_id)
            if secret is None:
                raise ApiError(
                    400,
                    CODE_INVALID,
                    "secret_id names no secret stored here (the local gateway has no Secrets "
                    "Store: pass secret)",
                    path=("secret_id",),
                )
        else:
            secret_id = uuid.uuid4().hex
        record = ProviderKeyRecord(
            account_id=scope[0],
            gateway_id=scope[1],
            id=str(uuid.uuid4()),
            settings=settings,
            secret_id=secret_id,
            secret=secret,
            modified_at=now,
        )
        keys[record.id] = record
        return record

    def rotate(self, record: ProviderKeyRecord, secret: str, now: float) -> ProviderKeyRecord:
        """The key with a new secret (a new `secret_id`), in place."""
        updated = attrs.evolve(
            record,
            secret=secret,
            secret_id=uuid.uuid4().hex,
            modified_at=max(now, record.modified_at),
        )
        self._scopes[record.scope][record.id] = updated
        return updated

    def put_back(self, record: ProviderKeyRecord) -> None:
        """Undo a change whose write failed."""
        self._scopes.setdefault(record.scope, {})[record.id] = record

    def remove(self, record: ProviderKeyRecord) -> None:
        self._scopes.get(record.scope, {}).pop(record.id, None)

    def forget(self, scope: Scope) -> None:
        """Drop a deleted gateway's keys (the store deletes their rows with the gateway)."""
        self._scopes.pop(scope, None)


def _secret_required() -> ApiError:
    return ApiError(400, CODE_INVALID, "secret or secret_id is required", path=("secret",))


__all__ = ["ProviderKeyRegistry", "load_all", "remove", "save"]
