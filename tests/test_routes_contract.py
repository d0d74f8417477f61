"""`contract/routes.py`: elements read from Cloudflare's JSON and written back unchanged, every
shape problem and graph problem named by its element, and hostile graphs handled in bounded
time and memory (a 10,000-element chain, conditions nested past the bound)."""

from __future__ import annotations

from typing import Any

import pytest

from aigateway_sdk.contract.routes import (
    MAX_CONDITION_DEPTH,
    MAX_ELEMENTS,
    MAX_TEXT_LENGTH,
    Conditional,
    End,
    Model,
    Percentage,
    Rate,
    Start,
    check_graph,
    check_route_name,
    condition_problems,
    element_to_json,
    elements_to_json,
    parse_elements,
    share_percent,
)


def edge(target: str) -> dict[str, str]:
    return {"elementId": target}


def model(element_id: str, success: str = "end", fallback: str | None = None) -> dict[str, Any]:
    outputs = {"success": edge(success)}
    if fallback:
        outputs["fallback"] = edge(fallback)
    return {
        "id": element_id,
        "type": "model",
        "properties": {"provider": "openai", "model": "gpt-4o-mini", "retries": 2, "timeout": 500},
        "outputs": outputs,
    }


FULL: list[dict[str, Any]] = [
    {"id": "start", "type": "start", "outputs": {"next": edge("plan")}},
    {
        "id": "plan",
        "type": "conditional",
        "properties": {"conditions": {"metadata.plan": {"$eq": "free"}}},
        "outputs": {"true": edge("quota"), "false": edge("split")},
    },
    {
        "id": "quota",
        "type": "rate",
        "properties": {"key": "metadata.user", "limit": 10, "limitType": "count", "window": 60},
        "outputs": {"success": edge("cheap"), "fallback": edge("end")},
    },
    {
        "id": "split",
        "type": "percentage",
        "outputs": {"10%": edge("cheap"), "12.5%": edge("big"), "else": edge("big")},
    },
    model("cheap", fallback="big"),
    model("big"),
    {"id": "end", "type": "end", "outputs": {}},
]


def test_every_element_kind_reads_into_its_value_and_writes_back_the_same_json() -> None:
    elements, errors = parse_elements(FULL)
    assert errors == []
    assert check_graph(elements) == []
    start, plan, quota, split, cheap, big, end = elements
    assert start == Start("start", "plan")
    assert isinstance(plan, Conditional)
    assert plan.when_true == "quota"
    assert quota == Rate("quota", "metadata.user", 10.0, "count", 60.0, "cheap", "end")
    assert split == Percentage("split", (("10%", "cheap"), ("12.5%", "big")), "big")
    assert cheap == Model("cheap", "openai", "gpt-4o-mini", "end", "big", retries=2, timeout=500)
    assert isinstance(big, Model)
    assert big.fallback is None
    assert end == End("end")
    assert elements_to_json(elements) == FULL
    assert element_to_json(start)["outputs"] == {"next": {"elementId": "plan"}}


def test_the_typed_models_whole_number_floats_are_accepted_for_retries_and_timeout() -> None:
    raw = model("m")
    raw["properties"].update(retries=1.0, timeout=2500.0)
    (element,), errors = parse_elements([raw])
    assert errors == []
    assert isinstance(element, Model)
    assert (element.retries, element.timeout) == (1, 2500)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"type": "router"}, ("elements[0]", "type")),
        ({"id": ""}, ("elements[0]", "id")),
        ({"id": "x" * 65}, ("elements[0]", "id")),
        ({"outputs": []}, ("elements[0]", "outputs")),
        ({"properties": None}, ("elements[0]", "properties")),
    ],
)
def test_shape_problems_name_the_element_and_field(
    change: dict[str, Any], path: tuple[str, ...]
) -> None:
    _elements, errors = parse_elements([{**model("m"), **change}])
    assert errors
    assert errors[0].path == path


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"retries": 6}, "retries"),
        ({"retries": -1}, "retries"),
        ({"retries": True}, "retries"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": 10**30}, "timeout"),
        ({"provider": ""}, "provider"),
        ({"model": "m" * (MAX_TEXT_LENGTH + 1)}, "model"),
        ({"model": 42}, "model"),
    ],
)
def test_model_properties_out_of_bounds_are_named(properties: dict[str, Any], field: str) -> None:
    raw = model("m")
    raw["properties"].update(properties)
    _elements, errors = parse_elements([raw])
    assert [e.path for e in errors] == [("elements[0]", "properties", field)]


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"limitType": "tokens"}, "limitType"),
        ({"limit": 0}, "limit"),
        ({"limit": 10**400}, "limit"),  # an integer too large for a float: no OverflowError
        ({"limit": float("inf")}, "limit"),
        ({"window": 10**9}, "window"),
        ({"key": ""}, "key"),
    ],
)
def test_rate_properties_out_of_bounds_are_named(properties: dict[str, Any], field: str) -> None:
    raw = FULL[2] | {"properties": {**FULL[2]["properties"], **properties}}
    _elements, errors = parse_elements([raw])
    assert [e.path for e in errors] == [("elements[0]", "properties", field)]


@pytest.mark.parametrize(
    "outputs",
    [
        {"10%": edge("a"), "20%": edge("b")},  # 30% and no else
        {"60%": edge("a"), "50%": edge("b")},  # more than 100%
        {"ten": edge("a"), "else": edge("b")},
        {"0%": edge("a"), "else": edge("b")},
        {f"{n}%": edge("a") for n in range(1, 7)} | {"else": edge("b")},  # six shares
        {},
    ],
)
def test_bad_percentage_outputs_are_refused(outputs: dict[str, Any]) -> None:
    raw = {"id": "split", "type": "percentage", "outputs": outputs}
    _elements, errors = parse_elements([raw])
    assert errors
    assert all(e.path[0] == "elements[0]" for e in errors)


def test_share_labels() -> None:
    assert share_percent("12.5%") == 12.5
    assert share_percent("100%") == 100
    assert share_percent("else") is None
    assert share_percent("1e2%") is None


def test_elements_must_be_a_bounded_non_empty_list() -> None:
    for raw in (None, [], {}, "start"):
        assert parse_elements(raw)[1][0].path == ("elements",)
    too_many = [{"id": f"e{i}", "type": "end", "outputs": {}} for i in range(MAX_ELEMENTS + 1)]
    assert "at most" in parse_elements(too_many)[1][0].message


def graph(*raw: dict[str, Any]) -> list[tuple[str, ...]]:
    elements, errors = parse_elements(list(raw))
    assert errors == []
    return [e.path for e in check_graph(elements)]


START = {"id": "start", "type": "start", "outputs": {"next": edge("m")}}
END = {"id": "end", "type": "end", "outputs": {}}


def test_a_dangling_edge_names_the_element_and_output() -> None:
    assert graph(START, model("m", fallback="ghost"), END) == [
        ("elements", "m", "outputs", "fallback")
    ]


def test_a_cycle_names_the_edge_that_closes_it() -> None:
    paths = graph(START, model("m", success="n"), model("n", success="m"), END)
    assert ("elements", "n", "outputs", "success") in paths


def test_an_unreachable_element_is_named() -> None:
    assert graph(START, model("m"), model("island"), END) == [("elements", "island")]


def test_no_start_two_starts_and_duplicate_ids() -> None:
    assert graph(model("m"), END) == [("elements",)]
    second = {**START, "id": "start2"}
    assert ("elements",) in graph(START, second, model("m"), END)
    assert ("elements", "m") in graph(START, model("m"), model("m"), END)


def test_a_ten_thousand_element_chain_is_checked_without_recursion() -> None:
    chain = [Start("start", "m0")]
    chain += [Model(f"m{i}", "openai", "gpt", f"m{i + 1}") for i in range(9_999)]
    chain.append(Model("m9999", "openai", "gpt", "end"))
    chain.append(End("end"))
    assert check_graph(chain) == []
    looped = [*chain[:-2], Model("m9999", "openai", "gpt", "m0"), chain[-1]]
    errors = check_graph(looped)
    assert ("elements", "m9999", "outputs", "success") in [e.path for e in errors]
    assert ("elements", "end") in [e.path for e in errors]  # nothing reaches it now


def nested(depth: int) -> dict[str, Any]:
    condition: dict[str, Any] = {"metadata.plan": "free"}
    for _ in range(depth):
        condition = {"$and": [condition]}
    return condition


def test_conditions_nested_past_the_bound_are_refused_without_deep_recursion() -> None:
    assert condition_problems(nested(MAX_CONDITION_DEPTH)) == []
    assert condition_problems(nested(MAX_CONDITION_DEPTH + 1))
    assert condition_problems(nested(5_000))  # stops at the bound


@pytest.mark.parametrize(
    "conditions",
    [
        {},
        [],
        {"plan": "free"},  # not metadata./body./headers.
        {"metadata": "free"},
        {"metadata.plan": {"$regex": "f.*"}},
        {"metadata.plan": {"$in": "free"}},
        {"$or": []},
        {"$and": {"metadata.plan": "free"}},
    ],
)
def test_bad_conditions_are_refused(conditions: object) -> None:
    assert condition_problems(conditions)


def test_route_names() -> None:
    assert check_route_name("support-bot.v2") is None
    for bad in ("", "-x", "a/b", "x" * 65, None, 3, "a b"):
        assert check_route_name(bad) is not None
