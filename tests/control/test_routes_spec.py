"""`AiRoute`: a route declared as data, checked when built with the contract's graph rules."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from aigateway_sdk.contract.routes import (
    Conditional,
    End,
    Model,
    Percentage,
    Rate,
    Start,
)
from aigateway_sdk.control.routes_spec import AiRoute, canonical_elements
from aigateway_sdk.control.spec import AiGateway
from aigateway_sdk.validation import ValidationError

LLAMA = "@cf/meta/llama-3.1-8b-instruct"
Gateway = AiGateway("Prod", id="prod-gateway")


def simple(**model: Any) -> list[Any]:
    settings = {"provider": "workers-ai", "model": LLAMA, "success": "end", **model}
    return [Start("start", next="m"), Model("m", **settings), End("end")]


def simple_json(timeout: float = 30000) -> list[dict[str, Any]]:
    return [
        {"id": "start", "type": "start", "outputs": {"next": {"elementId": "m"}}},
        {
            "id": "m",
            "type": "model",
            "properties": {
                "provider": "workers-ai",
                "model": LLAMA,
                "retries": 1,
                "timeout": timeout,
            },
            "outputs": {"success": {"elementId": "end"}},
        },
        {"id": "end", "type": "end", "outputs": {}},
    ]


def problems(**kwargs: Any) -> dict[str, str]:
    kwargs.setdefault("gateway", Gateway)
    with pytest.raises(ValidationError) as caught:
        AiRoute(kwargs.pop("name", "support"), **kwargs)
    return {".".join(e.path): e.message for e in caught.value.errors}


def test_a_route_beside_its_gateway() -> None:
    route = AiRoute("support", gateway=Gateway, elements=simple(retries=1, timeout=30000))
    assert route.gateway_id == "prod-gateway"
    assert [e.id for e in route.elements] == ["start", "m", "end"]
    assert route.create_json() == {"name": "support", "elements": simple_json()}


def test_a_gateway_id_instead_of_a_gateway() -> None:
    route = AiRoute("support", gateway_id="other", elements=simple())
    assert route.gateway is None
    assert route.gateway_id == "other"


def test_json_elements_and_values_build_the_same_route() -> None:
    from_values = AiRoute("support", gateway=Gateway, elements=simple(retries=1, timeout=30000))
    from_dicts = AiRoute("support", gateway=Gateway, elements=simple_json())
    assert from_dicts.elements == from_values.elements
    mixed = AiRoute("support", gateway=Gateway, elements=[simple_json()[0], *simple()[1:]])
    assert [e.type for e in mixed.elements] == ["start", "model", "end"]


def test_from_json_takes_a_route_object_a_list_or_text() -> None:
    body = {"name": "support", "elements": simple_json()}
    assert AiRoute.from_json(body, gateway=Gateway).name == "support"
    assert AiRoute.from_json(json.dumps(body), gateway_id="g").gateway_id == "g"
    renamed = AiRoute.from_json(simple_json(), name="other", gateway=Gateway)
    assert renamed.name == "other"
    assert renamed.elements_json() == simple_json()


def test_from_json_refuses_bad_text_and_a_missing_name() -> None:
    with pytest.raises(ValidationError, match="not JSON"):
        AiRoute.from_json("{nope", gateway=Gateway)
    with pytest.raises(ValidationError, match="name"):
        AiRoute.from_json(simple_json(), gateway=Gateway)


def test_every_element_kind_round_trips() -> None:
    elements = [
        Start("start", next="plan"),
        Conditional(
            "plan", {"metadata.plan": {"$eq": "pro"}}, when_true="split", when_false="quota"
        ),
        Percentage("split", shares=(("10%", "big"),), otherwise="small"),
        Rate(
            "quota",
            key="metadata.user",
            limit=100,
            limit_type="count",
            window=3600,
            success="small",
        ),
        Model("big", provider="openai", model="gpt-4o", success="end", fallback="small"),
        Model("small", provider="workers-ai", model=LLAMA, success="end"),
        End("end"),
    ]
    route = AiRoute("tiers", gateway=Gateway, elements=elements)
    again = AiRoute.from_json(route.create_json(), gateway=Gateway)
    assert again.elements == route.elements
    assert again.canonical == route.canonical


# -- validation: one error naming each problem ----------------------------------------------


def test_a_graph_without_start() -> None:
    found = problems(elements=[Model("m", provider="p", model="x", success="end"), End("end")])
    assert "exactly one start" in found["elements"]


def test_two_starts() -> None:
    found = problems(elements=[Start("a", next="end"), Start("b", next="end"), End("end")])
    assert "found 2" in found["elements"]


def test_a_dangling_edge_names_the_element_and_output() -> None:
    found = problems(elements=simple(success="nowhere"))
    assert found == {
        "elements.m.outputs.success": "points to 'nowhere', which is not an element of this route"
    }


def test_a_cycle_names_the_edge() -> None:
    found = problems(elements=simple(success="m"))
    assert found["elements.m.outputs.success"] == "makes a cycle back to 'm'"


def test_an_unreachable_element() -> None:
    found = problems(elements=[*simple(), End("orphan")])
    assert found == {"elements.orphan": "is not reachable from the start element"}


def test_duplicate_ids() -> None:
    found = problems(elements=[*simple(), End("end")])
    assert found["elements.end"] == "duplicate element id"


def test_bad_properties_name_the_element_by_id() -> None:
    found = problems(elements=simple(provider="", retries=99, timeout=0))
    assert set(found) == {
        "elements.m.properties.provider",
        "elements.m.properties.retries",
        "elements.m.properties.timeout",
    }


def test_name_gateway_and_graph_problems_come_together() -> None:
    found = problems(name="bad name!", gateway=None, elements=simple(retries=-1))
    assert set(found) == {"name", "gateway_id", "elements.m.properties.retries"}


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"elements": []}, "elements", "non-empty list"),
        ({"elements": None}, "elements", "non-empty list"),
        ({"elements": ["start"]}, "elements[0]", "must be an object"),
        (
            {"elements": [{"id": "x", "type": "teleport", "outputs": {}}]},
            "elements.x.type",
            "one of",
        ),
        ({"elements": simple(), "gateway": "prod"}, "gateway", "AiGateway"),
        ({"elements": simple(), "gateway_id": "other"}, "gateway_id", "differs"),
        ({"elements": simple(), "gateway": None, "gateway_id": "UPPER case"}, "gateway_id", ""),
        ({"elements": simple(), "name": "x" * 65}, "name", "1 to 64"),
        ({"elements": simple(), "name": 7}, "name", "1 to 64"),
    ],
)
def test_bad_input_is_refused_when_built(kwargs: dict[str, Any], field: str, words: str) -> None:
    found = problems(**kwargs)
    assert field in found
    assert words in found[field]


def test_huge_graphs_and_values_are_refused() -> None:
    chain: list[Any] = [Start("start", next="e0")]
    chain += [Model(f"e{i}", provider="p", model="m", success=f"e{i + 1}") for i in range(150)]
    chain.append(End("e150"))
    assert "at most 100" in problems(elements=chain)["elements"]
    assert "timeout" in str(problems(elements=simple(timeout=10**30)))


def test_frozen_and_readable() -> None:
    route = AiRoute("support", gateway=Gateway, elements=simple(retries=1))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        route.name = "other"  # type: ignore[misc]
    text = repr(route)
    assert text.startswith("AiRoute('support', gateway_id='prod-gateway', elements=[")
    assert f"m: model workers-ai {LLAMA} -> success=end" in text
    assert len(text) < 300


def test_canonical_json_ignores_key_order_number_form_and_element_order() -> None:
    a = simple_json(timeout=30000)
    b = [dict(reversed(list(e.items()))) for e in reversed(simple_json(timeout=30000.0))]
    assert canonical_elements(a) == canonical_elements(b)
    assert canonical_elements(a) != canonical_elements(simple_json(timeout=30001))


def test_canonical_json_of_a_graph_the_sdk_cannot_read_still_compares() -> None:
    strange = [{"id": "s", "type": "quantum", "outputs": {}, "weight": 1.0}]
    assert canonical_elements(strange) == canonical_elements([{**strange[0], "weight": 1}])
