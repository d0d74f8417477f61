"""Values generated from a JSON Schema: the built-in model's tool-call arguments and JSON-mode
replies. The same schema and the same PRNG state give the same value, and the value is valid
against the schema for the keywords below.

- `$ref` to a local JSON pointer (`#`, `#/$defs/X`, `#/definitions/X`); `allOf` merged
  (properties and `required` united, other keywords first one wins).
- `const`, then `enum`: that value (an enum's first non-null one).
- `anyOf` / `oneOf`: the first branch that is not `{"type": "null"}`; a `type` list: its first
  non-null type; OpenAPI's `nullable` is ignored (the value is never null unless `null` is the
  only choice, or past `MAX_DEPTH` levels, where a `null` branch or type is taken when there
  is one, so recursive schemas end).
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
  Best effort past what floats hold: an integer beyond 64 bits is written as a number, and a
  `multipleOf` with more than ~1e308 multiples in the range is not honoured.
- `boolean`: either; `null`: null. No `type`: inferred from the keywords present
  (`properties` -> object, `items` -> array, `minimum` -> number, ...), else a string.

The work is bounded, whatever the schema (a request's schemas come from whoever sends it): one
`Budget` per request, shared by its tool calls and its JSON reply, allows `MAX_VALUES` values,
`MAX_CHARS` characters of strings and `MAX_WORK` steps of schema handling (merging `allOf`,
scanning `enum`s, `properties`, `anyOf` branches), and values nest at most `MAX_NESTING`
levels. A schema that needs more (`minItems: 10**9`, a `$ref` that recurses through required
properties with no way out, unique items an enum cannot supply) raises `CannotGenerate`
naming the path of the value and why, which the gateway answers with a 400.

`given` (the `name=value` pairs of a prompt, see `toolrule.named_values`) overrides top-level
properties: the text converted to the property's type (`integer`, `number`, `boolean`,
`string`) is used when it satisfies the property's `enum`/`const`, bounds and lengths
(`pattern` is not checked: the gateway runs no regular expression a request supplies, as one
can take exponential time); otherwise the generated value stays.
"""

from __future__ import annotations

import math
import random
import re
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from aigateway_sdk._json import dumps
from aigateway_sdk.local.upstreams.words import WORDS

MAX_DEPTH = 6
"""Below this many levels of nesting, objects keep only required properties and arrays
only `minItems` items (so recursive schemas end)."""
WIDE_DEPTH = 2
"""Arrays nested deeper than this many levels get their shortest length (at least one
item when allowed), so nested values stay small."""
MAX_VALUES = 10_000
"""The most values (strings, numbers, arrays, objects, ... each counted) generated for one
request, its tool calls and JSON reply together."""
MAX_CHARS = 100_000
"""The most characters of strings generated for one request."""
MAX_WORK = 1_000_000
"""The most steps of schema handling for one request (a key merged, an `enum` value or an
`anyOf` branch scanned, a property listed)."""
MAX_NESTING = 64
"""How deeply generated values (and the `anyOf` hops to them) may nest. A request's JSON nests
at most 128 levels, so a value with a `const` inside stays well within what can be written."""
_MAX_REFS = 32
_SHOWN_PATH = 120
_SPAN = 100
_INT64 = (-(2**63), 2**63 - 1)
_INTEGER_DIGITS = 20
"""Given integer text longer than this is read as a float (Python refuses int() of more than
4,300 digits, and JSON here carries 64-bit integers)."""
_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_OBJECT_HINTS = ("properties", "required", "additionalProperties", "minProperties")
_ARRAY_HINTS = ("items", "prefixItems", "minItems", "maxItems", "contains")
_STRING_HINTS = ("minLength", "maxLength", "pattern", "format")
_NUMBER_HINTS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")

T = TypeVar("T")


class CannotGenerate(ValueError):
    """The schema asks for more than the generator makes for one request (see the module's
    docstring): `path` is the value's path (`$.a[0]`), `reason` says what was too much."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class Budget:
    """What one request may still generate; shared by every `generate` call of the request."""

    __slots__ = ("chars", "values", "work")

    def __init__(
        self, values: int = MAX_VALUES, chars: int = MAX_CHARS, work: int = MAX_WORK
    ) -> None:
        self.values = values
        self.chars = chars
        self.work = work


def _type_of(schema: dict[str, Any], depth: int) -> str:
    """The type to generate: the first non-null `type` (`null` past `MAX_DEPTH` when listed),
    else inferred from the keywords."""
    declared = schema.get("type")
    if isinstance(declared, list):
        kinds = [t for t in declared if isinstance(t, str)]
        if depth >= MAX_DEPTH and "null" in kinds:
            return "null"
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


class _Merged:
    """A schema being merged with `allOf` parts: its keywords, its properties and required
    names united, and the number of keys handled (the work done)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.keywords = {k: v for k, v in schema.items() if k != "allOf"}
        properties, required = self.keywords.get("properties"), self.keywords.get("required")
        self.properties = dict(properties) if isinstance(properties, dict) else None
        self.required = list(required) if isinstance(required, list) else None
        self.work = len(self.keywords) + len(self.properties or ()) + len(self.required or ())

    def add(self, part: dict[str, Any]) -> None:
        for key, value in part.items():
            if key == "properties" and isinstance(value, dict):
                self.properties = self.properties if self.properties is not None else {}
                self.properties.update(value)
                self.work += len(value)
            elif key == "required" and isinstance(value, list):
                self.required = self.required if self.required is not None else []
                self.required.extend(value)
                self.work += len(value)
            else:
                self.keywords.setdefault(key, value)
        self.work += len(part) + 1

    def schema(self) -> dict[str, Any]:
        if self.properties is not None:
            self.keywords["properties"] = self.properties
        if self.required is not None:
            self.keywords["required"] = self.required
        return self.keywords


def _merge_all_of(schema: dict[str, Any], parts: list[Any]) -> tuple[dict[str, Any], int]:
    """`schema` with `parts` merged in (properties and `required` united, other keywords
    first one wins), and the number of keys handled (the work done)."""
    merged = _Merged(schema)
    for part in parts:
        if isinstance(part, dict):
            merged.add(part)
    return merged.schema(), merged.work


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
    try:
        number = float(value)  # an integer past what a float holds raises OverflowError
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _key(value: Any) -> bytes:
    """A value's identity for `uniqueItems`: its JSON, or its repr for what orjson cannot
    write (an integer past 64 bits taken from a schema's `enum` or `const`)."""
    try:
        return dumps(value)
    except TypeError:
        return repr(value).encode()


def _json_int(value: int) -> int | float:
    """An integer as JSON can carry it here: past 64 bits, as a number (orjson writes no
    larger integer; JSON Schema counts `1e300` as an integer)."""
    return value if _INT64[0] <= value <= _INT64[1] else float(value)


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
    """A multiple of `step` within the schema's bounds (the lowest bound when none fits, or
    when the range holds more multiples than a float can count)."""
    low, low_x, high, high_x = _number_bounds(schema)
    start, end = _span(low, high)
    if not (math.isfinite(start / step) and math.isfinite(end / step)):
        return start
    first, last = math.ceil(start / step), math.floor(end / step)
    if low_x and first * step <= start:
        first += 1
    if high_x and last * step >= end:
        last -= 1
    count = rng.randint(first, max(first, last))
    if float(step).is_integer():
        return _json_int(int(count * step))
    return round(count * step, _decimals(step))


def _integer(gen: _Generator, schema: dict[str, Any], depth: int) -> Any:
    step = _finite(schema.get("multipleOf"))
    if step is not None and step > 0:
        return _json_int(int(_multiple(gen.rng, schema, step if step.is_integer() else 1.0)))
    low, low_x, high, high_x = _number_bounds(schema)
    start, end = _span(low, high)
    first = math.floor(start) + 1 if low_x else math.ceil(start)
    last = math.ceil(end) - 1 if high_x else math.floor(end)
    return _json_int(gen.rng.randint(first, max(first, last)))


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
    shortest = _count(schema.get("minLength"), 0) or 0
    longest = _count(schema.get("maxLength"), None)
    if shortest > gen.budget.chars:
        raise gen.fail(
            f"minLength {shortest} is more than the {MAX_CHARS} characters of strings the "
            "built-in model generates per request"
        )
    words = [rng.choice(WORDS) for _ in range(rng.randint(1, 3))]
    length = sum(map(len, words)) + len(words) - 1
    while length < shortest:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    text = " ".join(words)
    if longest is not None and len(text) > longest:
        text = text[:longest]
        if text.endswith(" "):
            text = text[:-1] + "x"
    gen.spend(chars=len(text))
    return text


def _count(value: object, default: int | None) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return default
    return value


def _item_count(gen: _Generator, schema: dict[str, Any], depth: int) -> int:
    least = _count(schema.get("minItems"), 0) or 0
    most = _count(schema.get("maxItems"), None)
    if least > gen.budget.values:
        raise gen.fail(
            f"minItems {least} is more than the {MAX_VALUES} values the built-in model "
            "generates per request"
        )
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
        values.append(gen.child(schema["contains"], depth, "[0]"))
    seen = {_key(v) for v in values}
    unique = schema.get("uniqueItems") is True
    repeats = 0
    for _attempt in range(count * 10):
        if len(values) >= count:
            break
        position = len(values)
        item_schema = prefix[position] if position < len(prefix) else items
        value = gen.child(item_schema, depth, f"[{position}]", pick=repeats)
        key = _key(value)
        if unique and key in seen:
            repeats += 1  # an enum's next value next time
            continue
        seen.add(key)
        values.append(value)
    return values


def _required(gen: _Generator, schema: dict[str, Any]) -> list[str]:
    required = schema.get("required")
    if not isinstance(required, list):
        return []
    gen.charge(len(required))
    return [name for name in required if isinstance(name, str)]


def _listed(gen: _Generator, schema: dict[str, Any], depth: int) -> dict[str, Any]:
    """The `properties` (only the required ones past `MAX_DEPTH`)."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    gen.charge(len(properties))
    if depth < MAX_DEPTH:
        names = list(properties)
    else:
        required = set(_required(gen, schema))
        names = [name for name in properties if name in required]
    return {name: gen.child(properties[name], depth, f".{name}") for name in names}


def _capped(gen: _Generator, value: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """At most `maxProperties` keys, the required ones first."""
    most = _count(schema.get("maxProperties"), None)
    if most is None or len(value) <= most:
        return value
    required = set(_required(gen, schema))
    keep = [n for n in value if n in required] + [n for n in value if n not in required]
    return {name: value[name] for name in keep[:most]}


def _object(gen: _Generator, schema: dict[str, Any], depth: int) -> Any:
    value = _listed(gen, schema, depth)
    extra = schema.get("additionalProperties", True)
    extra_schema = extra if isinstance(extra, dict) else True
    for name in _required(gen, schema):
        if name not in value:
            value[name] = gen.child(extra_schema, depth, f".{name}")
    least = _count(schema.get("minProperties"), 0) or 0
    if extra is not False and least > len(value) + gen.budget.values:
        raise gen.fail(
            f"minProperties {least} is more than the {MAX_VALUES} values the built-in model "
            "generates per request"
        )
    while len(value) < least and extra is not False:
        name = f"field_{len(value)}"
        value[name] = gen.child(extra_schema, depth, f".{name}")
    return _capped(gen, value, schema)


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
    """Walks one schema (its `root` resolves `$ref`s) drawing from one PRNG, within a
    request's `budget`. What it works out once per schema object (a resolved `$ref`/`allOf`,
    an enum's choices, a branch) is kept, keyed by the object (kept alive with it)."""

    def __init__(self, root: object, rng: random.Random, budget: Budget) -> None:
        self.root = root
        self.rng = rng
        self.budget = budget
        self.path: list[str] = []
        self.nesting = 0
        self._memo: dict[tuple[str, int], tuple[object, Any]] = {}

    # --- the budget ---------------------------------------------------------------------

    def fail(self, reason: str) -> CannotGenerate:
        path = "$" + "".join(self.path)
        if len(path) > _SHOWN_PATH:
            path = f"{path[: _SHOWN_PATH // 2]}…{path[-_SHOWN_PATH // 2 :]}"
        return CannotGenerate(path, reason)

    def spend(self, *, values: int = 0, chars: int = 0) -> None:
        budget = self.budget
        if values > budget.values:
            raise self.fail(
                f"the value needs more than the {MAX_VALUES} values the built-in model "
                "generates per request"
            )
        if chars > budget.chars:
            raise self.fail(
                f"the value needs more than the {MAX_CHARS} characters of strings the "
                "built-in model generates per request"
            )
        budget.values -= values
        budget.chars -= chars

    def charge(self, steps: int) -> None:
        budget = self.budget
        budget.work -= steps
        if budget.work < 0:
            raise self.fail(
                f"the schema takes more than the {MAX_WORK} steps the built-in model spends on "
                "the schemas of one request"
            )

    def memo(self, kind: str, key: object, make: Callable[[], T]) -> T:
        """`make()`, once per (kind, object)."""
        slot = (kind, id(key))
        hit = self._memo.get(slot)
        if hit is not None and hit[0] is key:
            return hit[1]  # type: ignore[no-any-return]
        made = make()
        self._memo[slot] = (key, made)
        return made

    def enter(self) -> None:
        """One more level of nesting, and one more value."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.fail(
                f"the value nests deeper than {MAX_NESTING} levels (a $ref that recurses with "
                "no way out?)"
            )
        self.spend(values=1)

    # --- schemas ------------------------------------------------------------------------

    def resolve(self, schema: object) -> object:
        """`schema` with its `$ref`s followed and its `allOf` merged."""
        if not isinstance(schema, dict):
            return schema
        return self.memo("resolve", schema, lambda: self._resolve(schema))

    def _resolve(self, schema: dict[str, Any]) -> object:
        current: object = schema
        for _hop in range(_MAX_REFS):
            if not isinstance(current, dict):
                return current
            if isinstance(current.get("$ref"), str):
                target = self._pointer(current["$ref"])
                rest = {k: v for k, v in current.items() if k != "$ref"}
                self.charge(len(rest) + 1)
                if rest:
                    current, work = _merge_all_of(rest, [target])
                    self.charge(work)
                else:
                    current = target
            elif isinstance(current.get("allOf"), list):
                current, work = _merge_all_of(current, current["allOf"])
                self.charge(work)
            else:
                return current
        return {}

    def _pointer(self, ref: str) -> object:
        """The local target of `ref` (`#/a/b`); anything else is an empty schema."""
        if not ref.startswith("#"):
            return {}
        target: object = self.root
        tokens = [token for token in ref[1:].split("/") if token]
        self.charge(len(tokens))
        for token in tokens:
            key = token.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and key in target:
                target = target[key]
            elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
                target = target[int(key)]
            else:
                return {}
        return target

    def choices(self, enum: list[Any]) -> list[Any]:
        """An enum's values to pick from: the non-null ones (all of them if all are null)."""

        def make() -> list[Any]:
            self.charge(len(enum))
            return [v for v in enum if v is not None] or enum

        return self.memo("enum", enum, make)

    def branch(self, branches: list[Any], depth: int) -> Any:
        """The `anyOf`/`oneOf` branch to take: the first that is not `{"type": "null"}` (the
        first one if all are); past `MAX_DEPTH`, a null branch when there is one."""

        def make() -> tuple[Any, Any]:
            self.charge(len(branches))
            nulls = [b for b in branches if _is_null(b)]
            first = next((b for b in branches if not _is_null(b)), branches[0])
            return first, (nulls[0] if nulls else first)

        first, deep = self.memo("branch", branches, make)
        return deep if depth >= MAX_DEPTH else first

    # --- values -------------------------------------------------------------------------

    def child(self, schema: object, depth: int, key: str, pick: int = 0) -> Any:
        """A value one level down, at `key` (`.name`, `[0]`) of the value's path."""
        self.path.append(key)
        value = self.value(schema, depth + 1, pick)
        self.path.pop()
        return value

    def value(self, schema: object, depth: int = 0, pick: int = 0) -> Any:
        """A value of `schema`; `pick` chooses an enum's value (0: its first non-null one;
        a unique array asks for the next ones after a repeat)."""
        self.enter()
        value = self._value(schema, depth, pick)
        self.nesting -= 1
        return value

    def _value(self, schema: object, depth: int, pick: int) -> Any:
        schema = self.resolve(schema)
        if schema is False:
            return None
        if not isinstance(schema, dict):
            return self.rng.choice(WORDS)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            choices = self.choices(enum)
            return choices[pick % len(choices)]
        for keyword in ("anyOf", "oneOf"):
            branches = schema.get(keyword)
            if isinstance(branches, list) and branches:
                return self.value(self.branch(branches, depth), depth)
        make = _GENERATORS.get(_type_of(schema, depth), _string)
        return make(self, schema, depth)


# --- values given as text ------------------------------------------------------------------


def _converted(text: str, kind: str) -> tuple[bool, Any]:
    """`text` as a value of JSON type `kind` (False when it is not one)."""
    if kind == "string":
        return True, text
    if kind == "integer" and _INTEGER_TEXT.fullmatch(text):
        if len(text) <= _INTEGER_DIGITS:
            return True, _json_int(int(text))
        number = float(text)  # no int() of thousands of digits
        return (True, number) if math.isfinite(number) else (False, None)
    if kind == "number" and _NUMBER_TEXT.fullmatch(text):
        number = float(text)
        if math.isfinite(number):
            return True, _json_int(int(number)) if _INTEGER_TEXT.fullmatch(text) else number
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
        return math.isfinite(quotient) and abs(quotient - round(quotient)) < 1e-9
    return True


def _string_fits(value: str, schema: dict[str, Any]) -> bool:
    shortest = _count(schema.get("minLength"), 0) or 0
    longest = _count(schema.get("maxLength"), None)
    return len(value) >= shortest and (longest is None or len(value) <= longest)


def _fits(gen: _Generator, value: Any, schema: dict[str, Any]) -> bool:
    """Whether a scalar satisfies the schema's value keywords (enum, const, bounds, lengths)."""
    if "const" in schema and schema["const"] != value:
        return False
    enum = schema.get("enum")
    if isinstance(enum, list):
        gen.charge(len(enum))
        if value not in enum:
            return False
    if isinstance(value, str):
        return _string_fits(value, schema)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return _in_bounds(float(value), schema)
        except OverflowError:  # an integer past what a float holds
            return False
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
    return [_type_of(schema, 0)]


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
    gen.enter()
    found = _text_value(gen, text, gen.resolve(schema))
    gen.nesting -= 1
    return found


def _text_value(gen: _Generator, text: str, schema: object) -> tuple[bool, Any]:
    if not isinstance(schema, dict):
        return schema is True, text
    for keyword in ("anyOf", "oneOf"):
        branches = schema.get(keyword)
        if isinstance(branches, list) and branches:
            gen.charge(len(branches))
            for branch in branches:
                hit = (False, None) if _is_null(branch) else _from_text(gen, text, branch)
                if hit[0]:
                    return hit
            return False, None
    for kind in _kinds(schema):
        ok, value = _converted(text, kind)
        if ok and _fits(gen, value, schema):
            return True, value
    return False, None


def _given_text(given: Mapping[str, str], name: str) -> str | None:
    """The text given for `name`: under that name, else under the name in any case."""
    text = given.get(name)
    if text is not None:
        return text
    any_case = getattr(given, "any_case", None)
    if callable(any_case):
        found: str | None = any_case(name)
        return found
    folded = name.lower()
    return next((t for n, t in given.items() if n.lower() == folded), None)


def _override(gen: _Generator, schema: object, value: Any, given: Mapping[str, str]) -> Any:
    """`value` with its top-level properties replaced by the valid `given` ones."""
    schema = gen.resolve(schema)
    if not isinstance(value, dict) or not isinstance(schema, dict):
        return value
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return value
    gen.charge(len(properties))
    for name, sub_schema in properties.items():
        if name not in value:
            continue
        text = _given_text(given, name)
        if text is None:
            continue
        ok, converted = _from_text(gen, text, sub_schema)
        if ok:
            value[name] = converted
    return value


def generate(
    schema: object,
    rng: random.Random,
    given: Mapping[str, str] | None = None,
    budget: Budget | None = None,
) -> Any:
    """A value valid against `schema` (see the module docstring), drawn from `rng`; the
    top-level properties named in `given` take the given text when it is a valid value.
    `budget` is the request's (a fresh one when None); `CannotGenerate` when the schema asks
    for more than it allows."""
    gen = _Generator(schema, rng, budget if budget is not None else Budget())
    value = gen.value(schema)
    return _override(gen, schema, value, given) if given else value


__all__ = [
    "MAX_CHARS",
    "MAX_DEPTH",
    "MAX_NESTING",
    "MAX_VALUES",
    "MAX_WORK",
    "WIDE_DEPTH",
    "Budget",
    "CannotGenerate",
    "generate",
]
