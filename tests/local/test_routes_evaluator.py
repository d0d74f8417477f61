"""The route evaluator (`local/policies/routes.py`) on its own: conditions and their operators,
percentage splits that a test can predict, rate counters over fixed windows, and walks that
call models, take fallbacks and end."""

from __future__ import annotations

from typing import Any

import pytest

from aigateway_sdk.contract.routes import (
    Conditional,
    Element,
    End,
    Model,
    Percentage,
    Rate,
    Start,
    check_graph,
)
from aigateway_sdk.local.policies.routes import (
    CallModel,
    Done,
    Facts,
    Failed,
    Graph,
    RateBook,
    Refused,
    Walk,
    choose_share,
    facts_of,
    matches,
    split_point,
)


def facts(
    metadata: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Facts:
    return facts_of(None, metadata or {}, body or {}, b"{}", headers or {})


REQUEST = facts(
    {"plan": "free", "tier": 2, "beta": True, "user": {"id": "u1"}},
    {"model": "dynamic/r", "max_tokens": 100, "messages": [{"role": "user"}]},
    {"X-Plan": "pro"},
)


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ({"metadata.plan": "free"}, True),  # a bare value is $eq
        ({"metadata.plan": {"$eq": "pro"}}, False),
        ({"metadata.plan": {"$ne": "pro"}}, True),
        ({"metadata.missing": {"$ne": "x"}}, True),
        ({"metadata.missing": {"$eq": None}}, False),
        ({"metadata.tier": {"$gt": 1, "$lte": 2}}, True),
        ({"metadata.tier": {"$gte": 3}}, False),
        ({"metadata.tier": {"$lt": "3"}}, False),  # a number and a string do not compare
        ({"metadata.tier": 2.0}, True),
        ({"metadata.beta": 1}, False),  # true is not 1
        ({"metadata.plan": {"$in": ["free", "trial"]}}, True),
        ({"metadata.plan": {"$nin": ["free"]}}, False),
        ({"metadata.user.id": "u1"}, True),
        ({"body.max_tokens": {"$gte": 100}}, True),
        ({"body.messages.0.role": "user"}, True),
        ({"body.messages.9.role": "user"}, False),
        ({"headers.x-plan": "pro"}, True),
        ({"headers.X-PLAN": "pro"}, True),
        ({"$or": [{"metadata.plan": "pro"}, {"headers.x-plan": "pro"}]}, True),
        ({"$and": [{"metadata.plan": "free"}, {"metadata.tier": 3}]}, False),
        ({"metadata.plan": "free", "metadata.tier": 3}, False),  # every key must hold
    ],
)
def test_conditions(conditions: dict[str, Any], expected: bool) -> None:
    assert matches(conditions, REQUEST) is expected


def test_conditions_nested_past_the_bound_never_match() -> None:
    condition: dict[str, Any] = {"metadata.plan": "free"}
    for _ in range(100):
        condition = {"$and": [condition]}
    assert matches(condition, REQUEST) is False


def test_a_split_point_is_stable_and_follows_the_shares() -> None:
    split = Percentage("split", (("10%", "a"), ("30%", "b")), "c")
    assert choose_share(split, 0.0) == "a"
    assert choose_share(split, 9.99) == "a"
    assert choose_share(split, 10.0) == "b"
    assert choose_share(split, 39.9) == "b"
    assert choose_share(split, 40.0) == "c"
    point = split_point("split", b"seed")
    assert point == split_point("split", b"seed")
    assert 0 <= point < 100
    assert split_point("other", b"seed") != point


def test_split_points_spread_like_the_shares() -> None:
    split = Percentage("split", (("25%", "a"),), "b")
    picks = [choose_share(split, split_point("split", str(i).encode())) for i in range(4000)]
    assert 800 < picks.count("a") < 1200  # a quarter, give or take


def rate(limit: float, kind: str = "count", fallback: str | None = None) -> Rate:
    return Rate("quota", "metadata.user", limit, kind, 60, "ok", fallback)  # type: ignore[arg-type]


def test_a_count_rate_admits_its_limit_per_fixed_window() -> None:
    book = RateBook()
    element = rate(2)
    key = ("acct", "gw", "route", "quota", '"u1"')
    assert [book.admit(key, element, 120.0 + i) for i in range(3)] == [True, True, False]
    assert book.admit(("other",), element, 125.0)  # another key has its own counter
    assert book.retry_after(element, 125.0) == 55
    assert book.admit(key, element, 180.0)  # the next window starts empty


def test_a_cost_rate_admits_until_the_charged_cost_reaches_the_limit() -> None:
    book = RateBook()
    element = rate(1.0, "cost")
    key = ("k",)
    assert book.admit(key, element, 0.0)
    book.charge(key, element, 0.6, 0.0)
    assert book.admit(key, element, 1.0)
    book.charge(key, element, 0.6, 1.0)
    assert not book.admit(key, element, 2.0)


def test_the_rate_book_stays_bounded_and_forgets_by_prefix() -> None:
    book = RateBook(max_keys=3)
    element = rate(1)
    for user in range(5):
        assert book.admit(("a", "g", "r", "quota", str(user)), element, 0.0)
    assert book.admit(("a", "g", "r", "quota", "0"), element, 0.0)  # evicted: counts afresh
    book.forget(("a", "g"))
    assert book.admit(("a", "g", "r", "quota", "4"), element, 0.0)


def walk_of(*elements: Element, request: Facts = REQUEST, book: RateBook | None = None) -> Walk:
    assert check_graph(elements) == []
    return Walk(Graph.of(elements), request, book or RateBook(), ("a", "g", "r"), 0.0)


PRIMARY = Model("primary", "openai", "gpt-4o", "end", "backup")
BACKUP = Model("backup", "workers-ai", "@cf/meta/llama-3.1-8b-instruct", "end")


def test_a_walk_calls_a_model_then_ends() -> None:
    walk = walk_of(Start("start", "primary"), PRIMARY, BACKUP, End("end"))
    assert walk.step() == CallModel(PRIMARY)
    assert walk.step(True) == Done()


def test_a_failed_model_takes_its_fallback_and_the_last_failure_fails_the_route() -> None:
    walk = walk_of(Start("start", "primary"), PRIMARY, BACKUP, End("end"))
    assert walk.step() == CallModel(PRIMARY)
    assert walk.step(False) == CallModel(BACKUP)
    assert walk.step(False) == Failed(BACKUP)


def test_a_conditional_walk() -> None:
    check = Conditional("plan", {"metadata.plan": "free"}, "backup", "primary")
    walk = walk_of(Start("start", "plan"), check, PRIMARY, BACKUP, End("end"))
    assert walk.step() == CallModel(BACKUP)


def test_a_rate_without_fallback_refuses_with_the_window_left() -> None:
    book = RateBook()
    elements = (Start("start", "quota"), rate(1), Model("ok", "p", "m", "end"), End("end"))
    first = walk_of(*elements, book=book)
    assert isinstance(first.step(), CallModel)
    refused = walk_of(*elements, book=book).step()
    assert refused == Refused(rate(1), 60)


def test_a_rate_with_fallback_goes_there_past_the_limit() -> None:
    book = RateBook()
    elements = (
        Start("start", "quota"),
        rate(1, fallback="cheap"),
        Model("ok", "p", "big", "end"),
        Model("cheap", "p", "small", "end"),
        End("end"),
    )
    assert walk_of(*elements, book=book).step() == CallModel(elements[2])  # type: ignore[arg-type]
    assert walk_of(*elements, book=book).step() == CallModel(elements[3])  # type: ignore[arg-type]
