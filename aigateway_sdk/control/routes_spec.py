"""Dynamic routes declared as data: `AiRoute` (a named element graph beside its gateway).

    Support = AiRoute(
        "support",
        gateway=Gateway,                      # an AiGateway, or gateway_id="prod-gateway"
        elements=[
            Start("start", next="m"),
            Model("m", provider="workers-ai", model="@cf/meta/llama-3.1-8b-instruct",
                  success="end", retries=1, timeout=30000),
            End("end"),
        ],
    )

Elements may also be Cloudflare's JSON objects (`{"id", "type", "properties", "outputs"}`),
or the whole route JSON via `AiRoute.from_json`. Building one checks every element and the
graph with the rules of `aigateway_sdk.contract.routes` (the ones the local gateway applies)
and raises one `ValidationError` naming each bad element.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import attrs

from aigateway_sdk import _json
from aigateway_sdk.contract.gateway import check_gateway_id
from aigateway_sdk.contract.routes import (
    Conditional,
    Element,
    End,
    Model,
    Percentage,
    Rate,
    Start,
    check_graph,
    check_route_name,
    edges,
    element_to_json,
    elements_to_json,
    parse_elements,
)
from aigateway_sdk.control.spec import AiGateway
from aigateway_sdk.validation import FieldError, ValidationError

ElementInput = Element | Mapping[str, Any]
"""An element as a value (`Start(...)`) or as Cloudflare's JSON object."""

_ELEMENT_TYPES = (Start, Conditional, Percentage, Rate, Model, End)


def _raw_items(value: Iterable[ElementInput]) -> tuple[Element, ...]:
    """Keep what was given; `AiRoute.__attrs_post_init__` reads and checks it."""
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
        return cast("tuple[Element, ...]", tuple(value))
    return cast("tuple[Element, ...]", value)


def _derived_gateway_id(instance: AiRoute) -> str:
    return instance.gateway.id if isinstance(instance.gateway, AiGateway) else ""


def read_elements(items: object) -> tuple[tuple[Element, ...], list[FieldError]]:
    """Elements (values or JSON objects) read and checked as one graph: the elements,
    normalised by a JSON round trip, and every problem (shape first, then graph)."""
    raw: object = items
    if isinstance(items, list | tuple):
        raw = [_as_json(item) for item in items]
    elements, errors = parse_elements(raw)
    if not errors:
        return elements, check_graph(elements)
    return elements, [_by_id(error, raw) for error in errors]


def _as_json(item: object) -> object:
    if not isinstance(item, _ELEMENT_TYPES):
        return item
    try:
        return element_to_json(item)
    except (TypeError, ValueError):  # e.g. conditions that are not a mapping
        return attrs.asdict(item)


def _by_id(error: FieldError, raw: object) -> FieldError:
    """`elements[1].properties.retries` -> `elements.m.properties.retries` when element 1
    has an id no other element has: the graph's errors name elements by id too."""
    head = error.path[0] if error.path else ""
    if not (head.startswith("elements[") and head.endswith("]") and isinstance(raw, list)):
        return error
    index = int(head[len("elements[") : -1])
    ids = [item.get("id") if isinstance(item, Mapping) else None for item in raw]
    element_id = ids[index] if index < len(ids) else None
    if not isinstance(element_id, str) or not element_id or ids.count(element_id) != 1:
        return error
    return FieldError(("elements", element_id, *error.path[1:]), error.message)


@attrs.frozen(slots=True, repr=False)
class AiRoute:
    """A dynamic route declared in code: its `name` (unique within the gateway: the model
    id is `dynamic/<name>`), its gateway (`gateway=` an `AiGateway`, or `gateway_id=`), and
    its element graph.

    Building it validates the name, the gateway id and the graph (exactly one `start`,
    every edge to an element of the route, no cycle, every element reachable) and raises
    one `ValidationError` naming each problem. `elements` holds the checked values, whatever
    form they were given in.
    """

    name: str
    elements: tuple[Element, ...] = attrs.field(converter=_raw_items, kw_only=True)
    gateway: AiGateway | None = attrs.field(default=None, kw_only=True)
    gateway_id: str = attrs.field(
        default=attrs.Factory(_derived_gateway_id, takes_self=True), kw_only=True
    )

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        problem = check_route_name(self.name)
        if problem:
            errors.append(FieldError(("name",), problem))
        errors += self._gateway_errors()
        elements, element_errors = read_elements(self.elements)
        errors += element_errors
        if errors:
            raise ValidationError(errors, what="route spec")
        object.__setattr__(self, "elements", elements)

    def _gateway_errors(self) -> list[FieldError]:
        if self.gateway is not None and not isinstance(self.gateway, AiGateway):
            kind = type(self.gateway).__name__
            return [FieldError(("gateway",), f"must be an AiGateway, got {kind}")]
        if self.gateway_id == "" and self.gateway is None:
            return [FieldError(("gateway_id",), "pass gateway=<AiGateway> or gateway_id=...")]
        if self.gateway is not None and self.gateway_id != self.gateway.id:
            return [
                FieldError(
                    ("gateway_id",),
                    f"{self.gateway_id!r} differs from gateway.id {self.gateway.id!r}",
                )
            ]
        problem = check_gateway_id(self.gateway_id)
        return [FieldError(("gateway_id",), problem)] if problem else []

    @classmethod
    def from_json(
        cls,
        body: str | bytes | Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        name: str | None = None,
        gateway: AiGateway | None = None,
        gateway_id: str | None = None,
    ) -> AiRoute:
        """A route from Cloudflare's JSON: a route object (`{"name", "elements"}`, as the
        dashboard shows it), a list of elements, or either as JSON text. `name` overrides
        (or supplies) the route's name."""
        data: object = body
        if isinstance(body, str | bytes):
            try:
                data = _json.loads(body)
            except ValueError as error:
                raise ValidationError(
                    [FieldError(("elements",), f"not JSON: {error}")], what="route spec"
                ) from None
        elements: object = data
        if isinstance(data, Mapping):
            elements = data.get("elements")
            if name is None:
                found = data.get("name")
                name = found if isinstance(found, str) else None
        if name is None:
            raise ValidationError(
                [FieldError(("name",), "missing: pass name=... or a route object with one")],
                what="route spec",
            )
        gateway_args: dict[str, Any] = {"gateway": gateway}
        if gateway_id is not None:
            gateway_args["gateway_id"] = gateway_id
        items = elements if isinstance(elements, list | tuple) else cast("Any", elements)
        return cls(name, elements=items, **gateway_args)

    def elements_json(self) -> list[dict[str, Any]]:
        """The elements as Cloudflare's JSON (the `elements` of a create or version body)."""
        return elements_to_json(self.elements)

    def create_json(self) -> dict[str, Any]:
        """The body of `POST .../routes`: `name` and `elements`."""
        return {"name": self.name, "elements": self.elements_json()}

    @property
    def canonical(self) -> str:
        """The graph as canonical JSON (see `canonical_elements`): equal for equal graphs."""
        return canonical_elements(self.elements_json())

    def __repr__(self) -> str:
        graph = "; ".join(describe_element(element) for element in self.elements)
        return f"AiRoute({self.name!r}, gateway_id={self.gateway_id!r}, elements=[{graph}])"


def describe_element(element: Element) -> str:
    """One element in a line: `m: model workers-ai @cf/... -> success=end, fallback=f`."""
    head = f"{element.id}: {element.type}"
    match element:
        case Model():
            head += f" {element.provider} {element.model}"
        case Rate():
            head += f" {element.limit:g} {element.limit_type}/{element.window:g}s by {element.key}"
        case _:
            pass
    outs = ", ".join(f"{name}={target}" for name, target in edges(element))
    return f"{head} -> {outs}" if outs else head


def canonical_elements(elements_json: object) -> str:
    """A graph's JSON in one canonical form, to compare graphs: elements read with the
    contract's rules (so `30000` and `30000.0` agree), ordered by id, keys sorted, whole
    floats written as integers. A graph this SDK cannot read is compared as given (keys
    sorted, numbers normalised)."""
    elements, errors = parse_elements(elements_json)
    value: object = elements_json
    if not errors:
        value = elements_to_json(sorted(elements, key=lambda element: element.id))
    try:
        return json.dumps(_normalised(value), sort_keys=True, separators=(",", ":"), default=str)
    except RecursionError:  # a hostile graph nested past the interpreter's limit
        return repr(value)


def _normalised(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _normalised(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalised(v) for v in value]
    return value


__all__ = [
    "AiRoute",
    "ElementInput",
    "canonical_elements",
    "describe_element",
    "read_elements",
]
