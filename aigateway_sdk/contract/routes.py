"""Dynamic routes: a route's element graph as values, its JSON shape, and the rules a graph obeys.

Shapes are Cloudflare's (the `cloudflare` package's `ai_gateway/dynamic_routing_*` models and
the "JSON Configuration" page of the dynamic-routing docs): a route is `{name, elements}`; each
element is `{id, type, properties?, outputs}` and each output edge is `{"elementId": <id>}`.

    start        outputs.next
    conditional  properties.conditions (MongoDB-like), outputs.true / outputs.false
    percentage   outputs keyed by share ("10%", "12.5%", ...) plus an optional "else"
    rate         properties key, limit, limitType ("count" | "cost"), window (seconds);
                 outputs.success, outputs.fallback (optional)
    model        properties provider, model, retries, timeout (ms); outputs.success,
                 outputs.fallback (optional)
    end          outputs {}

`parse_elements(json)` reads a JSON list into elements (every problem a `FieldError` naming
`elements[i].<field>`); `check_graph(elements)` finds graph problems (no single start, a
duplicate id, a dangling edge, a cycle, an element not reachable from start), each naming
the element. Both the SDK's `AiRoute` and the local control plane use them, so the two agree.
Where Cloudflare documents no bound, the value here is marked "ours".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import attrs

from aigateway_sdk.contract.limits import IntRange, shown
from aigateway_sdk.validation import FieldError

ElementType = Literal["start", "conditional", "percentage", "rate", "model", "end"]
ELEMENT_TYPES: tuple[ElementType, ...] = get_args(ElementType)
RateLimitType = Literal["count", "cost"]
RATE_LIMIT_TYPES: tuple[RateLimitType, ...] = get_args(RateLimitType)

DYNAMIC_MODEL_PREFIX = "dynamic/"
"""A data-plane model id `dynamic/<route name>` runs the route's deployed version (compat)."""
EDGE_KEY = "elementId"
"""The JSON key of an output edge."""
ELSE_OUTPUT = "else"
"""A percentage element's output taking the share its named outputs leave."""
MAX_PERCENTAGE_OUTPUTS = 5
"""Named outputs of a percentage element (Cloudflare's docs: "up to 5", plus `else`)."""
MAX_ELEMENTS = 100
"""Elements in one route (ours: Cloudflare documents no bound)."""
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""A route name (ours: Cloudflare documents none; this one is safe in `dynamic/<name>`)."""
ELEMENT_ID_MAX_LENGTH = 64
"""Characters in an element id (ours)."""
MODEL_RETRIES = IntRange(0, 5)
"""Retries of a model element (ours, matching the gateway's 5 attempts at most)."""
MODEL_TIMEOUT_MS = IntRange(1, 3_600_000)
"""A model element's timeout in milliseconds (ours, as `REQUEST_TIMEOUT_MS`)."""
MAX_RATE_WINDOW_S = 31_536_000
"""A rate element's window: at most a year in seconds (ours)."""
MAX_TEXT_LENGTH = 256
"""Characters in a model element's provider or model, or a rate element's key (ours)."""
MAX_ROUTES_PER_GATEWAY = 100
"""Routes one gateway holds (ours: Cloudflare documents no bound)."""
MAX_VERSIONS_PER_ROUTE = 1000
"""Versions one route keeps (ours: Cloudflare documents no bound)."""
MAX_CONDITION_DEPTH = 16
"""Nesting of `$and` / `$or` in a condition (ours: keeps evaluation bounded)."""
COMPARISON_OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"})
"""Operators on one field (`{"metadata.plan": {"$eq": "free"}}`); the docs name `$eq`, `$ne`,
`$in`, `$and`, `$or` ("MongoDB-like"); the rest are MongoDB's own comparison operators."""
LOGICAL_OPERATORS = frozenset({"$and", "$or"})
"""Operators over a list of conditions (`{"$or": [{...}, {...}]}`)."""
MAX_OPERAND_INTEGER = 2**53 - 1
"""The largest integer a condition compares with, either sign (ours: what a JSON number holds
exactly in the JavaScript that runs Cloudflare's gateway)."""
FIELD_ROOTS = frozenset({"metadata", "body", "headers"})
"""What a condition's field path starts with: request metadata (`cf-aig-metadata`), the
request body, or a request header (`headers.x-plan`); the docs name all three."""

_SHARE = re.compile(r"^(\d{1,3}(?:\.\d{1,4})?)%$")


@attrs.frozen(slots=True)
class Start:
    """The route's entry: forwards the request unchanged to `next`."""

    id: str
    next: str
    type: ElementType = attrs.field(default="start", init=False)


@attrs.frozen(slots=True)
class Conditional:
    """If/else on the request: `conditions` true -> `when_true`, else `when_false`."""

    id: str
    conditions: Mapping[str, Any]
    when_true: str
    when_false: str
    type: ElementType = attrs.field(default="conditional", init=False)


@attrs.frozen(slots=True)
class Percentage:
    """A split: each `(share, element_id)` takes `share` percent of requests; `otherwise` the
    rest. Shares are the labels Cloudflare uses as output keys (`"10%"`)."""

    id: str
    shares: tuple[tuple[str, str], ...]
    otherwise: str | None = None
    type: ElementType = attrs.field(default="percentage", init=False)


@attrs.frozen(slots=True)
class Rate:
    """A quota per `key` (a request field path such as `metadata.user_id`): `limit` requests
    (`count`) or cost in dollars (`cost`) per `window` seconds. Within it -> `success`, past it
    -> `fallback` (None: the route ends with a 429)."""

    id: str
    key: str
    limit: float
    limit_type: RateLimitType
    window: float
    success: str
    fallback: str | None = None
    type: ElementType = attrs.field(default="rate", init=False)


@attrs.frozen(slots=True)
class Model:
    """A model call: `provider` and `model`, `retries` more attempts, `timeout` ms each.
    Answered -> `success`; failed after every attempt -> `fallback` (None: the route fails)."""

    id: str
    provider: str
    model: str
    success: str
    fallback: str | None = None
    retries: int = 0
    timeout: int = 60_000
    type: ElementType = attrs.field(default="model", init=False)


@attrs.frozen(slots=True)
class End:
    """Where a route finishes: the last model's reply is the answer."""

    id: str
    type: ElementType = attrs.field(default="end", init=False)


Element = Start | Conditional | Percentage | Rate | Model | End


def edges(element: Element) -> tuple[tuple[str, str], ...]:
    """Each outgoing edge as `(output name, target id)`, in the element's output order."""
    match element:
        case Start():
            return (("next", element.next),)
        case Conditional():
            return (("true", element.when_true), ("false", element.when_false))
        case Percentage():
            tail = () if element.otherwise is None else ((ELSE_OUTPUT, element.otherwise),)
            return (*element.shares, *tail)
        case Rate() | Model():
            tail = () if element.fallback is None else (("fallback", element.fallback),)
            return (("success", element.success), *tail)
        case End():
            return ()


def share_percent(label: str) -> float | None:
    """The percentage a share label stands for (`"12.5%"` -> 12.5), or None if not a share."""
    match = _SHARE.match(label)
    return float(match.group(1)) if match else None


# ---- JSON ----------------------------------------------------------------------------------


def _edge(target: str) -> dict[str, str]:
    return {EDGE_KEY: target}


def element_to_json(element: Element) -> dict[str, Any]:
    """The element as Cloudflare's JSON (`{id, type, properties?, outputs}`)."""
    outputs = {name: _edge(target) for name, target in edges(element)}
    body: dict[str, Any] = {"id": element.id, "type": element.type}
    match element:
        case Conditional():
            body["properties"] = {"conditions": dict(element.conditions)}
        case Rate():
            body["properties"] = {
                "key": element.key,
                "limit": element.limit,
                "limitType": element.limit_type,
                "window": element.window,
            }
        case Model():
            body["properties"] = {
                "provider": element.provider,
                "model": element.model,
                "retries": element.retries,
                "timeout": element.timeout,
            }
        case _:
            pass
    body["outputs"] = outputs
    return body


def elements_to_json(elements: Sequence[Element]) -> list[dict[str, Any]]:
    return [element_to_json(element) for element in elements]


class _Reader:
    """Reads one element's JSON, collecting each problem with its path."""

    def __init__(self, raw: Mapping[str, Any], path: tuple[str, ...]) -> None:
        self.raw = raw
        self.path = path
        self.errors: list[FieldError] = []

    def fail(self, message: str, *where: str) -> None:
        self.errors.append(FieldError((*self.path, *where), message))

    def section(self, name: str) -> Mapping[str, Any]:
        value = self.raw.get(name)
        if not isinstance(value, Mapping):
            self.fail("must be an object", name)
            return {}
        return value

    def edge(self, outputs: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
        value = outputs.get(name)
        if value is None and not required:
            return None
        target = value.get(EDGE_KEY) if isinstance(value, Mapping) else None
        if not isinstance(target, str) or not target:
            self.fail(f'must be {{"{EDGE_KEY}": "<element id>"}}', "outputs", name)
            return None
        return target

    def text(self, properties: Mapping[str, Any], name: str) -> str:
        value = properties.get(name)
        if not isinstance(value, str) or not value.strip():
            self.fail("must be a non-empty string", "properties", name)
            return ""
        if len(value) > MAX_TEXT_LENGTH:
            self.fail(f"must be at most {MAX_TEXT_LENGTH} characters", "properties", name)
            return ""
        return value

    def number(self, properties: Mapping[str, Any], name: str, high: float) -> float:
        value = properties.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail("must be a number", "properties", name)
            return 0.0
        finite = isinstance(value, int) or math.isfinite(value)  # a huge int has no float
        if not finite or not 0 < value <= high:
            self.fail(
                f"must be above 0 and at most {high:g}, got {shown(value)}", "properties", name
            )
            return 0.0
        return float(value)

    def integer(self, properties: Mapping[str, Any], name: str, bounds: IntRange) -> int:
        value = properties.get(name)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # the typed models say float; whole numbers are meant
        problem = bounds.problem(value)
        if problem:
            self.fail(problem, "properties", name)
            return bounds.low
        return int(value)  # type: ignore[arg-type]


def _read_element(raw: object, path: tuple[str, ...]) -> tuple[Element | None, list[FieldError]]:
    if not isinstance(raw, Mapping):
        return None, [FieldError(path, "must be an object")]
    read = _Reader(raw, path)
    element_id = raw.get("id")
    if not isinstance(element_id, str) or not element_id or len(element_id) > ELEMENT_ID_MAX_LENGTH:
        read.fail(f"must be a string of 1 to {ELEMENT_ID_MAX_LENGTH} characters", "id")
        element_id = ""
    kind = raw.get("type")
    if kind not in ELEMENT_TYPES:
        read.fail(f"must be one of {', '.join(ELEMENT_TYPES)}", "type")
        return None, read.errors
    outputs = read.section("outputs")
    element = _build(kind, element_id, read, outputs)
    return (None if read.errors else element), read.errors


def _build(kind: str, element_id: str, read: _Reader, outputs: Mapping[str, Any]) -> Element | None:
    if kind == "start":
        return Start(element_id, read.edge(outputs, "next") or "")
    if kind == "end":
        if outputs:
            read.fail("an end element has no outputs", "outputs")
        return End(element_id)
    if kind == "percentage":
        return _percentage(element_id, read, outputs)
    properties = read.section("properties")
    if kind == "conditional":
        conditions = properties.get("conditions")
        for problem in condition_problems(conditions):
            read.fail(problem, "properties", "conditions")
        return Conditional(
            element_id,
            conditions if isinstance(conditions, Mapping) else {},
            read.edge(outputs, "true") or "",
            read.edge(outputs, "false") or "",
        )
    success = read.edge(outputs, "success") or ""
    fallback = read.edge(outputs, "fallback", required=False)
    if kind == "rate":
        limit_type: RateLimitType = "count"
        if properties.get("limitType") in RATE_LIMIT_TYPES:
            limit_type = properties["limitType"]
        else:
            read.fail('must be "count" or "cost"', "properties", "limitType")
        return Rate(
            element_id,
            read.text(properties, "key"),
            read.number(properties, "limit", 1e15),
            limit_type,
            read.number(properties, "window", MAX_RATE_WINDOW_S),
            success,
            fallback,
        )
    return Model(
        element_id,
        read.text(properties, "provider"),
        read.text(properties, "model"),
        success,
        fallback,
        retries=read.integer(properties, "retries", MODEL_RETRIES),
        timeout=read.integer(properties, "timeout", MODEL_TIMEOUT_MS),
    )


def _percentage(element_id: str, read: _Reader, outputs: Mapping[str, Any]) -> Percentage:
    shares: list[tuple[str, str]] = []
    total = 0.0
    for label in outputs:
        if label == ELSE_OUTPUT:
            continue
        percent = share_percent(label) if isinstance(label, str) else None
        if percent is None or not 0 < percent <= 100:
            read.fail(
                'must be a share such as "10%" or "12.5%" (above 0, at most 100)',
                "outputs",
                str(label),
            )
            continue
        total += percent
        shares.append((label, read.edge(outputs, label) or ""))
    otherwise = read.edge(outputs, ELSE_OUTPUT, required=False)
    if not shares and otherwise is None:
        read.fail("a percentage element needs at least one output", "outputs")
    if len(shares) > MAX_PERCENTAGE_OUTPUTS:
        read.fail(f"at most {MAX_PERCENTAGE_OUTPUTS} shares (plus else)", "outputs")
    if total > 100 + 1e-9:
        read.fail(f"shares total {total:g}%, more than 100%", "outputs")
    elif total < 100 - 1e-9 and otherwise is None:
        read.fail(
            f'shares total {total:g}%: add an "else" output or make them total 100%', "outputs"
        )
    return Percentage(element_id, tuple(shares), otherwise)


def condition_problems(conditions: object, depth: int = 0) -> list[str]:
    """What is wrong with a conditional element's `conditions` (empty: nothing)."""
    if depth > MAX_CONDITION_DEPTH:
        return [f"nested more than {MAX_CONDITION_DEPTH} levels"]
    if not isinstance(conditions, Mapping) or not conditions:
        return ["must be a non-empty object of conditions"]
    problems: list[str] = []
    for key, value in conditions.items():
        if key in LOGICAL_OPERATORS:
            if not isinstance(value, list) or not value:
                problems.append(f"{key} takes a non-empty list of conditions")
                continue
            for item in value:
                problems += condition_problems(item, depth + 1)
        else:
            problems += _field_problems(key, value)
    return problems


def _field_problems(key: object, value: object) -> list[str]:
    """What is wrong with one `{field: value}` or `{field: {operator: operand}}` condition."""
    if not isinstance(key, str) or key.split(".", 1)[0] not in FIELD_ROOTS or "." not in key:
        roots = ", ".join(sorted(FIELD_ROOTS))
        return [f"{key!r} is not a field path starting with one of {roots}"]
    if not isinstance(value, Mapping):  # a bare value means {"$eq": value}
        problem = operand_problem(value)
        return [] if problem is None else [f"{key}: {problem}"]
    problems: list[str] = []
    unknown = [op for op in value if op not in COMPARISON_OPERATORS]
    if unknown or not value:
        problems.append(f"{key}: operators must be among {', '.join(sorted(COMPARISON_OPERATORS))}")
    for op, operand in value.items():
        if op in ("$in", "$nin"):
            problems += _list_problems(f"{key}: {op}", operand)
        elif op in COMPARISON_OPERATORS and (problem := operand_problem(operand)) is not None:
            problems.append(f"{key}: {op} {problem}")
    return problems


def _list_problems(where: str, operand: object) -> list[str]:
    if not isinstance(operand, list):
        return [f"{where} takes a list"]
    found = next((p for p in map(operand_problem, operand) if p is not None), None)
    return [] if found is None else [f"{where} items: {found}"]


def operand_problem(value: object) -> str | None:
    """Why `value` cannot be compared with (None: it can). Operands are JSON scalars: a
    string, a finite number (integers within +-`MAX_OPERAND_INTEGER`), true, false or null.
    A NaN or an infinity would go over the wire as null, and a set or bytes not at all."""
    if value is None or isinstance(value, str | bool):
        return None
    if isinstance(value, int):
        if abs(value) <= MAX_OPERAND_INTEGER:
            return None
        return f"must be an integer within +-{MAX_OPERAND_INTEGER}, got {shown(value)}"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"must be a finite number, got {value}"
    kind = type(value).__name__
    return f"must be a string, a number, true, false or null, got {kind}"


def parse_elements(raw: object) -> tuple[tuple[Element, ...], list[FieldError]]:
    """Elements from JSON, with every shape problem (each naming `elements[i]...`). The
    graph rules are separate (`check_graph`); a caller checks both."""
    if not isinstance(raw, list) or not raw:
        return (), [FieldError(("elements",), "must be a non-empty list of elements")]
    if len(raw) > MAX_ELEMENTS:
        return (), [FieldError(("elements",), f"at most {MAX_ELEMENTS} elements, got {len(raw)}")]
    elements: list[Element] = []
    errors: list[FieldError] = []
    for index, item in enumerate(raw):
        element, problems = _read_element(item, (f"elements[{index}]",))
        errors += problems
        if element is not None:
            elements.append(element)
    return tuple(elements), errors


def check_graph(elements: Sequence[Element]) -> list[FieldError]:
    """Graph problems, each naming the element: exactly one start, unique ids, every edge to
    an existing element, no cycle, every element reachable from start."""
    errors: list[FieldError] = []
    by_id: dict[str, Element] = {}
    for element in elements:
        if element.id in by_id:
            errors.append(FieldError(("elements", element.id), "duplicate element id"))
        by_id[element.id] = element
    starts = [e for e in elements if isinstance(e, Start)]
    if len(starts) != 1:
        errors.append(
            FieldError(("elements",), f"a route has exactly one start element, found {len(starts)}")
        )
    for element in elements:
        for output, target in edges(element):
            if target not in by_id:
                errors.append(
                    FieldError(
                        ("elements", element.id, "outputs", output),
                        f"points to {target!r}, which is not an element of this route",
                    )
                )
    if errors or not starts:
        return errors
    return _cycles_and_reach(starts[0], by_id)


def _cycles_and_reach(start: Start, by_id: Mapping[str, Element]) -> list[FieldError]:
    errors: list[FieldError] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    stack: list[tuple[str, int]] = [(start.id, 0)]
    state[start.id] = 1
    while stack:  # iterative depth-first search: a long chain cannot exhaust the recursion limit
        node, index = stack[-1]
        outs = edges(by_id[node])
        if index == len(outs):
            state[node] = 2
            stack.pop()
            continue
        stack[-1] = (node, index + 1)
        target = outs[index][1]
        if state.get(target) == 1:
            errors.append(
                FieldError(
                    ("elements", node, "outputs", outs[index][0]),
                    f"makes a cycle back to {target!r}",
                )
            )
        elif target not in state:
            state[target] = 1
            stack.append((target, 0))
    errors += [
        FieldError(("elements", element_id), "is not reachable from the start element")
        for element_id in by_id
        if element_id not in state
    ]
    return errors


def check_route_name(name: object) -> str | None:
    """What is wrong with a route name, or None."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return "must be 1 to 64 letters, digits, '_', '-' or '.', starting with a letter or digit"
    return None


__all__ = [
    "COMPARISON_OPERATORS",
    "DYNAMIC_MODEL_PREFIX",
    "EDGE_KEY",
    "ELEMENT_TYPES",
    "ELSE_OUTPUT",
    "FIELD_ROOTS",
    "LOGICAL_OPERATORS",
    "MAX_CONDITION_DEPTH",
    "MAX_ELEMENTS",
    "MAX_OPERAND_INTEGER",
    "MAX_PERCENTAGE_OUTPUTS",
    "MAX_RATE_WINDOW_S",
    "MAX_ROUTES_PER_GATEWAY",
    "MAX_TEXT_LENGTH",
    "MAX_VERSIONS_PER_ROUTE",
    "MODEL_RETRIES",
    "MODEL_TIMEOUT_MS",
    "NAME_PATTERN",
    "RATE_LIMIT_TYPES",
    "Conditional",
    "Element",
    "ElementType",
    "End",
    "Model",
    "Percentage",
    "Rate",
    "RateLimitType",
    "Start",
    "check_graph",
    "check_route_name",
    "condition_problems",
    "edges",
    "element_to_json",
    "elements_to_json",
    "operand_problem",
    "parse_elements",
    "share_percent",
]
