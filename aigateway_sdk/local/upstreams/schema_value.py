"""Values generated from a JSON Schema: the built-in model's tool-call arguments and JSON-mode
replies. The same schema and the same PRNG state give the same value, and the value is valid
against the schema for the keywords below.

- `$ref` to a local JSON pointer (`#`, `#/$defs/X`, `#/definitions/X`); `allOf` merged
  (properties and `required` united, other keywords first one wins).
- `const`, then `enum`: that value (an enum's first non-null one).
- `anyOf` / `oneOf`: the first branch that is not `{"type": "null"}`; a `type` list: its first
  non-null type; OpenAPI's `nullable` is ignored (the value is never null unless `null` is the
  only choice).
- `object`: every property in `properties` (past `MAX_DEPTH` levels only the `required` ones),
  `required` names without a property schema from `additionalProperties`, padded with
  `field_N` keys to `minProperties` and cut to `maxProperties` (required names first).
- `array`: `prefixItems` (or a draft-4 `items` list) first, then `items`; the length is drawn
  from [max(minItems, 1), that + 2] within `maxItems` (the shortest of those below
  `WIDE_DEPTH` levels, `minItems` past `MAX_DEPTH`);
  `uniqueItems` drops repeats (an enum item then takes the enum's next values); `contains`
  puts one matching item first.
- `string`: 1-3 words, padded with words to `minLength` and cut to `maxLength`; `format`
  `date-time`, `date`, `time`, `email`, `uri`/`url`, `uuid`, `hostname`, `ipv4`, `ipv6` get a
  value of that form. `pattern` is not honoured.
- `integer` / `number`: within `minimum`/`maximum` and the exclusive bounds (numbers or
  draft-4 booleans), a multiple of `multipleOf`; unbounded sides span 100 from the other
  bound (0..100 with neither). Numbers have at most 2 decimals when that keeps them in range.
- `boolean`: either; `null`: null. No `type`: inferred from the keywords present
  (`properties` -> object, `items` -> array, `minimum` -> number, ...), else a string.

`given` (the `name=value` pairs of a prompt, see `toolrule.named_values`) overrides top-level
properties: the text converted to the property's type (`integer`, `number`, `boolean`,
`string`) is used when it satisfies the property's `enum`/`const`, bounds, lengths and
`pattern`; otherwise the generated value stays.
"""

from __future__ import annotations

import math
import random
import re
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from aigateway_sdk._json import dumps
from aigateway_sdk.local.upstreams.words import WORDS

MAX_DEPTH = 6
"""Below this many levels of nesting, objects keep only required properties and arrays
only `minItems` items (so recursive schemas end)."""
WIDE_DEPTH = 2
"""Arrays nested deeper than this many levels get their shortest length (at least one
item when allowed), so nested values stay small."""
_MAX_REFS = 32
_SPAN = 100
_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_OBJECT_HINTS = ("properties", "required", "additionalProperties", "minProperties")
_ARRAY_HINTS = ("items", "prefixItems", "minItems", "maxItems", "contains")
_STRING_HINTS = ("minLength", "maxLength", "pattern", "format")
_NUMBER_HINTS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def _type_of(schema: dict[str, Any]) -> str:
    """The type to generate: the first non-null `type`, else inferred from the keywords."""
    declared = schema.get("type")
    if isinstance(declared, list):
        kinds = [t for t in declared if isinstance(t, str)]
        declared = next((t for t in kinds if t != "null"), kinds[0] if kinds else None)
    if isinstance(declared, str):
        return declared
    for kind, hints in (
        ("object", _OBJECT_HINTS),
        ("array", _ARRAY_HINTS),
        ("string", _STRING_HINTS),
        ("number", _NUMBER_HINTS),
    ):
        if any(hint in schema for hint in hints):
            return kind
    return "string"


def _is_null(schema: object) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def _first_branch(branches: list[Any]) -> Any:
    """The first branch that is not `{"type": "null"}` (the first one if all are)."""
    return next((b for b in branches if not _is_null(b)), branches[0])


def _merge_all_of(schema: dict[str, Any], parts: list[Any]) -> dict[str, Any]:
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for part in parts:
        if not isinstance(part, dict):
            continue
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required" and isinstance(value, list):
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _number_bounds(schema: dict[str, Any]) -> tuple[float | None, bool, float | None, bool]:
    """(low, low exclusive, high, high exclusive), draft 4's boolean forms included."""
    low, high = _finite(schema.get("minimum")), _finite(schema.get("maximum"))
    low_x = schema.get("exclusiveMinimum") is True
    high_x = schema.get("exclusiveMaximum") is True
    exclusive_low = _finite(schema.get("exclusiveMinimum"))
    if exclusive_low is not None and (low is None or exclusive_low >= low):
        low, low_x = exclusive_low, True
    exclusive_high = _finite(schema.get("exclusiveMaximum"))
    if exclusive_high is not None and (high is None or exclusive_high <= high):
        high, high_x = exclusive_high, True
    return low, low_x, high, high_x


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _span(low: float | None, high: float | None) -> tuple[float, float]:
    """Both ends of a range, an open side spanning `_SPAN` from the other."""
    if low is None and high is None:
        return 0.0, float(_SPAN)
    if low is None:
        assert high is not None
        return high - _SPAN, high
    if high is None:
        return low, low + _SPAN
    return low, high


def _decimals(step: float) -> int:
    exponent = Decimal(repr(step)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _multiple(rng: random.Random, schema: dict[str, Any], step: float) -> int | float:
    """A multiple of `step` within the schema's bounds (the lowest bound when none fits)."""
    low, low_x, high, high_x = _number_bounds(schema)
    start, end = _span(low, high)
    first, last = math.ceil(start / step), math.floor(end / step)
    if low_x and first * step <= start:
        first += 1
    if high_x and last * step >= end:
        last -= 1
    count = rng.randint(first, max(first, last))
    if float(step).is_integer():
        return int(count * step)
    return round(count * step, _decimals(step))


def _integer(gen: _Generator, schema: dict[str, Any], depth: int) -> Any:
    step = _finite(schema.get("multipleOf"))
    if step is not None and step > 0:
        return int(_multiple(gen.rng, schema, step if step.is_integer() else 1.0))
    low, low_x, high, high_x = _number_bounds(schema)
    start, end = _span(low, high)
    first = math.floor(start) + 1 if low_x else math.ceil(start)
    last = math.ceil(end) - 1 if high_x else math.floor(end)
    return gen.rng.randint(first, max(first, last))


def _number(gen: _Generator, schema: dict[str, Any], depth: int) -> Any:
    step = _finite(schema.get("multipleOf"))
    if step is not None and step > 0:
        return _multiple(gen.rng, schema, step)
    low, low_x, high, high_x = _number_bounds(schema)
    start, end = _span(low, high)
    value = start + (end - start) * gen.rng.random()

    def inside(x: float) -> bool:
        above = x > start if low_x else x >= start
        below = x < end if high_x else x <= end
        return above and below

    if inside(round(value, 2)):
        return round(value, 2)
    return value if inside(value) else (start + end) / 2


def _boolean(gen: _Generator, schema: dict[str, Any], depth: int) -> Any:
    return gen.rng.random() < 0.5


def _null(gen: _Generator, schema: dict[str, Any], depth: int) -> Any:
    return None


def _formatted(rng: random.Random, form: object) -> str | None:
    word = rng.choice(WORDS)
    day, hour, minute = rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59)
    forms: dict[str, Callable[[], str]] = {
        "date-time": lambda: f"2026-01-{day:02d}T{hour:02d}:{minute:02d}:00Z",
        "date": lambda: f"2026-01-{day:02d}",
        "time": lambda: f"{hour:02d}:{minute:02d}:00Z",
        "email": lambda: f"{word}@example.com",
        "uri": lambda: f"https://example.com/{word}",
        "url": lambda: f"https://example.com/{word}",
        "uuid": lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "hostname": lambda: f"{word}.example.com",
        "ipv4": lambda: f"192.0.2.{day}",
        "ipv6": lambda: f"2001:db8::{day:x}",
    }
    make = forms.get(form) if isinstance(form, str) else None
    return make() if make is not None else None


def _string(gen: _Generator, schema: dict[str, Any], depth: int) -> Any:
    rng = gen.rng
    formatted = _formatted(rng, schema.get("format"))
    if formatted is not None:
        return formatted
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
    shortest = _count(schema.get("minLength"), 0) or 0
    longest = _count(schema.get("maxLength"), None)
    while len(text) < shortest:
        text += " " + rng.choice(WORDS)
    if longest is not None and len(text) > longest:
        text = text[:longest]
        if text.endswith(" "):
            text = text[:-1] + "x"
    return text


def _count(value: object, default: int | None) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return default
    return value


def _item_count(gen: _Generator, schema: dict[str, Any], depth: int) -> int:
    least = _count(schema.get("minItems"), 0) or 0
    most = _count(schema.get("maxItems"), None)
    if depth >= MAX_DEPTH:
        return least
    low = max(least, 1)
    high = low + 2 if most is None else min(low + 2, most)
    if depth > WIDE_DEPTH:
        return min(low, high)
    return gen.rng.randint(min(low, high), high)


def _array(gen: _Generator, schema: dict[str, Any], depth: int) -> Any:
    count = _item_count(gen, schema, depth)
    prefix = schema.get("prefixItems")
    items = schema.get("items", True)
    if isinstance(items, list):  # draft 4's tuple form
        prefix, items = items, schema.get("additionalItems", True)
    prefix = prefix if isinstance(prefix, list) else []
    if items is False:
        count = min(count, len(prefix))
    values: list[Any] = []
    if "contains" in schema and not prefix and count:
        values.append(gen.value(schema["contains"], depth + 1))
    seen = {dumps(v) for v in values}
    unique = schema.get("uniqueItems") is True
    repeats = 0
    for _attempt in range(count * 10):
        if len(values) >= count:
            break
        position = len(values)
        item_schema = prefix[position] if position < len(prefix) else items
        value = gen.value(item_schema, depth + 1, pick=repeats)
        key = dumps(value)
        if unique and key in seen:
            repeats += 1  # an enum's next value next time
            continue
        seen.add(key)
        values.append(value)
    return values


def _required(schema: dict[str, Any]) -> list[str]:
    return [name for name in schema.get("required") or () if isinstance(name, str)]


def _listed(gen: _Generator, schema: dict[str, Any], depth: int) -> dict[str, Any]:
    """The `properties` (only the required ones past `MAX_DEPTH`)."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    required = _required(schema)
    names = [n for n in properties if depth < MAX_DEPTH or n in required]
    return {name: gen.value(properties[name], depth + 1) for name in names}


def _capped(value: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """At most `maxProperties` keys, the required ones first."""
    most = _count(schema.get("maxProperties"), None)
    if most is None or len(value) <= most:
        return value
    required = _required(schema)
    keep = [n for n in value if n in required] + [n for n in value if n not in required]
    return {name: value[name] for name in keep[:most]}


def _object(gen: _Generator, schema: dict[str, Any], depth: int) -> Any:
    value = _listed(gen, schema, depth)
    extra = schema.get("additionalProperties", True)
    extra_schema = extra if isinstance(extra, dict) else True
    for name in _required(schema):
        if name not in value:
            value[name] = gen.value(extra_schema, depth + 1)
    least = _count(schema.get("minProperties"), 0) or 0
    while len(value) < least and extra is not False:
        value[f"field_{len(value)}"] = gen.value(extra_schema, depth + 1)
    return _capped(value, schema)


_GENERATORS: dict[str, Callable[[_Generator, dict[str, Any], int], Any]] = {
    "object": _object,
    "array": _array,
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "null": _null,
}


class _Generator:
    """Walks one schema (its `root` resolves `$ref`s) drawing from one PRNG."""

    def __init__(self, root: object, rng: random.Random) -> None:
        self.root = root
        self.rng = rng

    def resolve(self, schema: object) -> object:
        """`schema` with its `$ref`s followed and its `allOf` merged."""
        for _hop in range(_MAX_REFS):
            if not isinstance(schema, dict):
                return schema
            if isinstance(schema.get("$ref"), str):
                target = self._pointer(schema["$ref"])
                rest = {k: v for k, v in schema.items() if k != "$ref"}
                schema = _merge_all_of(rest, [target]) if rest else target
            elif isinstance(schema.get("allOf"), list):
                schema = _merge_all_of(schema, schema["allOf"])
            else:
                return schema
        return {}

    def _pointer(self, ref: str) -> object:
        """The local target of `ref` (`#/a/b`); anything else is an empty schema."""
        if not ref.startswith("#"):
            return {}
        target: object = self.root
        for token in filter(None, ref[1:].split("/")):
            key = token.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and key in target:
                target = target[key]
            elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
                target = target[int(key)]
            else:
                return {}
        return target

    def value(self, schema: object, depth: int = 0, pick: int = 0) -> Any:
        """A value of `schema`; `pick` chooses an enum's value (0: its first non-null one;
        a unique array asks for the next ones after a repeat)."""
        schema = self.resolve(schema)
        if schema is False:
            return None
        if not isinstance(schema, dict):
            return self.rng.choice(WORDS)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            choices = [v for v in enum if v is not None] or enum
            return choices[pick % len(choices)]
        for keyword in ("anyOf", "oneOf"):
            branches = schema.get(keyword)
            if isinstance(branches, list) and branches:
                return self.value(_first_branch(branches), depth)
        make = _GENERATORS.get(_type_of(schema), _string)
        return make(self, schema, depth)


# --- values given as text ------------------------------------------------------------------


def _converted(text: str, kind: str) -> tuple[bool, Any]:
    """`text` as a value of JSON type `kind` (False when it is not one)."""
    if kind == "string":
        return True, text
    if kind == "integer" and _INTEGER_TEXT.fullmatch(text):
        return True, int(text)
    if kind == "number" and _NUMBER_TEXT.fullmatch(text):
        number = float(text)
        if math.isfinite(number):
            return True, int(number) if _INTEGER_TEXT.fullmatch(text) else number
    if kind == "boolean" and text.lower() in ("true", "false"):
        return True, text.lower() == "true"
    return False, None


def _in_bounds(value: float, schema: dict[str, Any]) -> bool:
    low, low_x, high, high_x = _number_bounds(schema)
    if low is not None and (value <= low if low_x else value < low):
        return False
    if high is not None and (value >= high if high_x else value > high):
        return False
    step = _finite(schema.get("multipleOf"))
    if step:
        quotient = value / step
        return abs(quotient - round(quotient)) < 1e-9
    return True


def _string_fits(value: str, schema: dict[str, Any]) -> bool:
    shortest = _count(schema.get("minLength"), 0) or 0
    longest = _count(schema.get("maxLength"), None)
    if len(value) < shortest or (longest is not None and len(value) > longest):
        return False
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            return re.search(pattern, value) is not None
        except re.error:
            return False
    return True


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether a scalar satisfies the schema's value keywords (enum, const, bounds, lengths)."""
    if "const" in schema and schema["const"] != value:
        return False
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        return False
    if isinstance(value, str):
        return _string_fits(value, schema)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _in_bounds(float(value), schema)
    return True


def _kinds(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [t for t in declared if isinstance(t, str) and t != "null"]
    enum = schema.get("enum", [schema["const"]] if "const" in schema else None)
    if isinstance(enum, list) and enum:
        return [_json_type(enum[0])]
    return [_type_of(schema)]


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _from_text(gen: _Generator, text: str, schema: object) -> tuple[bool, Any]:
    """`text` read as a value of `schema` (a scalar type), if it is a valid one."""
    schema = gen.resolve(schema)
    if not isinstance(schema, dict):
        return schema is True, text
    for keyword in ("anyOf", "oneOf"):
        branches = schema.get(keyword)
        if isinstance(branches, list) and branches:
            found = [_from_text(gen, text, b) for b in branches if not _is_null(b)]
            return next((hit for hit in found if hit[0]), (False, None))
    for kind in _kinds(schema):
        ok, value = _converted(text, kind)
        if ok and _fits(value, schema):
            return True, value
    return False, None


def _override(gen: _Generator, schema: object, value: Any, given: Mapping[str, str]) -> Any:
    """`value` with its top-level properties replaced by the valid `given` ones."""
    schema = gen.resolve(schema)
    if not isinstance(value, dict) or not isinstance(schema, dict):
        return value
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return value
    lowered = {name.lower(): text for name, text in given.items()}
    for name, sub_schema in properties.items():
        text = given.get(name, lowered.get(name.lower()))
        if text is None or name not in value:
            continue
        ok, converted = _from_text(gen, text, sub_schema)
        if ok:
            value[name] = converted
    return value


def generate(schema: object, rng: random.Random, given: Mapping[str, str] | None = None) -> Any:
    """A value valid against `schema` (see the module docstring), drawn from `rng`; the
    top-level properties named in `given` take the given text when it is a valid value."""
    gen = _Generator(schema, rng)
    value = gen.value(schema)
    return _override(gen, schema, value, given) if given else value


__all__ = ["MAX_DEPTH", "WIDE_DEPTH", "generate"]
