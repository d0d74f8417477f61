"""The whole story of a dynamic route, as a user lives it, against the local gateway over real
HTTP: declare `AiGateway` + `AiRoute` in code -> apply -> call `dynamic/<name>` through
`GatewayBinding` (plain and streamed) and see which model served -> change the graph ->
re-apply makes exactly one new version and deploys it; re-applying unchanged makes none ->
destroy, and the route is gone from the data plane."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aigateway_sdk import GatewayBinding, GatewayOptions
from aigateway_sdk.contract.routes import Conditional, End, Model, Start
from aigateway_sdk.control import AiGateway, GatewayAdmin
from aigateway_sdk.control.routes_spec import AiRoute
from aigateway_sdk.errors import AiError, NotFound
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig, UpstreamRoute
from aigateway_sdk.parts import Finish, ResponseMetadata, TextDelta

from .conftest import TOKEN

pytestmark = pytest.mark.anyio

LLAMA = "@cf/meta/llama-3.1-8b-instruct"
CHEAP = f"workers-ai/{LLAMA}"
BIG = "openai/gpt-4o"
PRO = GatewayOptions(metadata={"tier": "pro"})
FREE = GatewayOptions(metadata={"tier": "free"})


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalGateway]:
    """A local gateway whose `broken/*` models always fail (a 500 upstream)."""
    db: Path = tmp_path_factory.mktemp("story") / "gw.db"
    upstreams = (UpstreamRoute("broken/*", kind="fault", status=500),)
    with LocalGateway(LocalGatewayConfig(db_path=db, api_token=TOKEN, upstreams=upstreams)) as gw:
        yield gw


def assistant(gateway: AiGateway, pro_model: tuple[str, str] = ("openai", "gpt-4o")) -> AiRoute:
    """Pro users get `pro_model`, falling back to the cheap model; everyone else the cheap
    model."""
    provider, model = pro_model
    return AiRoute(
        "assistant",
        gateway=gateway,
        elements=[
            Start("start", next="tier"),
            Conditional(
                "tier",
                conditions={"metadata.tier": {"$eq": "pro"}},
                when_true="big",
                when_false="cheap",
            ),
            Model("big", provider=provider, model=model, success="end", fallback="cheap"),
            Model("cheap", provider="workers-ai", model=LLAMA, success="end"),
            End("end"),
        ],
    )


async def served(
    binding: GatewayBinding, options: GatewayOptions
) -> tuple[str, str, str, str | None, str]:
    """Which model answered `dynamic/assistant`, read five ways: the reply's `model`, the
    `cf-aig-model` header of a plain call, that header on a stream's first part, the stream's
    `Finish.model` (what its chunks named) and a collected stream's `model`.

    A stream's `ResponseMetadata.model` is the model asked for, `dynamic/assistant`: it comes
    before the first chunk. The header is the local gateway's own (Cloudflare documents none)."""
    model = binding.model("dynamic/assistant", options=options)
    reply = await model.generate_text(prompt="Name a colour")
    assert reply.text
    assert reply.raw is not None
    assert reply.raw.headers["cf-aig-dynamic-route"] == "assistant"
    parts = [part async for part in model.stream_text(prompt="Name a colour")]
    head = parts[0]
    assert isinstance(head, ResponseMetadata)
    assert head.headers is not None
    assert head.model == "dynamic/assistant"
    assert head.headers["cf-aig-dynamic-route"] == "assistant"
    assert "".join(p.delta for p in parts if isinstance(p, TextDelta))
    finish = parts[-1]
    assert isinstance(finish, Finish)
    collected = await model.stream_text(prompt="Name a colour").collect()
    return (
        reply.model,
        reply.raw.headers["cf-aig-model"],
        head.headers["cf-aig-model"],
        finish.model,
        collected.model,
    )


async def test_declare_apply_call_change_reapply_destroy(
    gw: LocalGateway, account: str, gateway_id: str
) -> None:
    Gateway = AiGateway("Assistant", id=gateway_id, authentication=True)
    binding = GatewayBinding(
        account, gateway_id=gateway_id, gateway_token=TOKEN, base_url=gw.data_url, retry=None
    )
    async with GatewayAdmin(account, TOKEN, gw.api_url) as admin, binding:
        await admin.apply(Gateway)
        routes = admin.routes(Gateway)

        created = await routes.apply(assistant(Gateway))
        assert created.action == "created"
        assert await served(binding, PRO) == (BIG,) * 5
        assert await served(binding, FREE) == (CHEAP,) * 5

        # The pro model breaks: pro calls now fall back to the cheap model.
        broken = assistant(Gateway, pro_model=("broken", "always-500"))
        changed = await routes.apply(broken)
        assert changed.action == "new-version"
        versions = await routes.list_versions(changed.route)
        assert len(versions) == 2
        assert [v.version_id for v in versions if v.active] == [changed.route.deployed_version_id]
        assert len(await routes.list_deployments(changed.route)) == 2
        assert await served(binding, PRO) == (CHEAP,) * 5

        again = await routes.apply(broken)
        assert again.action == "unchanged"
        assert len(await routes.list_versions(changed.route)) == 2
        assert len(await routes.list_deployments(changed.route)) == 2

        assert await routes.destroy(broken) is True
        with pytest.raises(AiError) as caught:
            await binding.model("dynamic/assistant", options=PRO).generate_text(prompt="hi")
        assert isinstance(caught.value.reason, NotFound)
        assert await routes.destroy(broken) is False
