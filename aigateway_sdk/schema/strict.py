"""OpenAI's strict form of a schema, and the way back from a value a model sent in it.

Strict structured outputs (https://platform.openai.com/docs/guides/structured-outputs,
"Supported schemas") want every object to list all its properties in `required` and to say
`additionalProperties: false`; an optional property is expressed as one that may be null.
`strict_form` rewrites a document that way (a `$ref` with sibling keywords, which strict mode
does not take, is replaced by the definition it names, merged with the siblings; an explicit
`additionalProperties` schema, a `dict[str, X]`, is kept: strict mode refuses it, the provider
says so). `normalizer` builds the function that turns a value in the strict form back into the
original form: a null standing for an optional property the original schema does not allow
to be null is dropped, so the property's default applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aigateway_sdk.schema.compiler import DEF_PREFIXES, Compiler, lookup_ref

Normalize = Callable[[Any], Any]

_NESTED_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_NESTED_ONE = ("additionalProperties", "additionalItems", "items", "not", "contains")
_NESTED_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_COMBINATORS = ("enum", "const", "anyOf", "oneOf", "allOf", "not", "$ref")


def _is_object(node: Mapping[str, Any]) -> bool:
    declared = node.get("type")
    if declared == "object" or (isinstance(declared, list) and "object" in declared):
        return True
    return declared is None and "properties" in node


def _accepts_null(node: Any) -> bool:
    """Plainly nullable: type null, a null branch, or no constraint at all."""
    if node is True or node == {}:
        return True
    if not isinstance(node, Mapping):
        return False
    declared = node.get("type")
    if declared == "null" or (isinstance(declared, list) and "null" in declared):
        return "enum" not in node or None in node["enum"]
    return any(_accepts_null(branch) for branch in node.get("anyOf", []))


def nullable(node: Any) -> Any:
    """`node` also admitting null: null added to a plain type list, else anyOf [node, null]
    (the description kept on the outside)."""
    if _accepts_null(node) or not isinstance(node, Mapping):
        return node
    declared = node.get("type")
    if declared is not None and not any(word in node for word in _COMBINATORS):
        names = [declared] if isinstance(declared, str) else list(declared)
        return {**node, "type": [*names, "null"]}
    inner = {name: value for name, value in node.items() if name != "description"}
    wrapped: dict[str, Any] = {"anyOf": [inner, {"type": "null"}]}
    if "description" in node:
        wrapped["description"] = node["description"]
    return wrapped


def strict_form(document: Mapping[str, Any]) -> dict[str, Any]:
    """The strict form of a whole document (see the module docstring)."""

    def walk(node: Any) -> Any:
        if not isinstance(node, Mapping):
            return node
        copied = dict(node)
        ref = copied.get("$ref")
        if isinstance(ref, str) and len(copied) > 1 and ref.startswith(DEF_PREFIXES):
            target = lookup_ref(document, ref)
            if isinstance(target, Mapping):
                siblings = {name: value for name, value in copied.items() if name != "$ref"}
                copied = {**target, **siblings}
        for name in _NESTED_MAPS:
            if isinstance(copied.get(name), Mapping):
                copied[name] = {key: walk(value) for key, value in copied[name].items()}
        for name in _NESTED_ONE:
            if isinstance(copied.get(name), Mapping):
                copied[name] = walk(copied[name])
            elif isinstance(copied.get(name), list):
                copied[name] = [walk(value) for value in copied[name]]
        for name in _NESTED_LISTS:
            if isinstance(copied.get(name), list):
                copied[name] = [walk(value) for value in copied[name]]
        if _is_object(copied):
            _strict_object(copied)
        return copied

    return dict(walk(document))


def _strict_object(node: dict[str, Any]) -> None:
    node.setdefault("additionalProperties", False)
    properties = node.get("properties")
    if not isinstance(properties, Mapping):
        node.setdefault("properties", {})
        node["required"] = []
        return
    required = node.get("required", [])
    node["properties"] = {
        name: value if name in required else nullable(value) for name, value in properties.items()
    }
    node["required"] = list(properties)


class _Builder:
    """Builds the normalizer of one document; `$ref`s share one function (recursion)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.compiler = Compiler(document)
        self.refs: dict[str, list[Normalize | None]] = {}

    def build(self, node: Any) -> Normalize | None:
        """None when values of `node` need no change."""
        if not isinstance(node, Mapping):
            return None
        steps: list[Normalize] = []
        if isinstance(node.get("$ref"), str):
            steps.extend(self._ref(node["$ref"]))
        if _is_object(node) or "additionalProperties" in node:
            steps.extend(self._object(node))
        steps.extend(self._array(node))
        for name in ("anyOf", "oneOf"):
            if isinstance(node.get(name), list):
                steps.append(self._choice(node[name]))
        for branch in node.get("allOf", []) if isinstance(node.get("allOf"), list) else []:
            step = self.build(branch)
            if step is not None:
                steps.append(step)
        return _chain(steps)

    def _ref(self, ref: str) -> list[Normalize]:
        cell = self.refs.get(ref)
        if cell is None:
            cell = self.refs[ref] = []
            cell.append(self.build(lookup_ref(self.document, ref)))
        return [lambda value: cell[0](value) if cell[0] is not None else value]

    def _object(self, node: Mapping[str, Any]) -> list[Normalize]:
        properties = node.get("properties", {})
        required = set(node.get("required", []))
        droppable = frozenset(
            name
            for name, sub in properties.items()
            if name not in required and not self.compiler.node(sub, ()).valid(None)
        )
        inner = {name: self.build(sub) for name, sub in properties.items()}
        members = {name: step for name, step in inner.items() if step is not None}
        extra = self.build(node.get("additionalProperties"))
        if not droppable and not members and extra is None:
            return []

        def normalize(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            copied: dict[str, Any] = {}
            for name, member in value.items():
                if member is None and name in droppable:
                    continue
                step = members.get(name) if name in properties else extra
                copied[name] = step(member) if step is not None else member
            return copied

        return [normalize]

    def _array(self, node: Mapping[str, Any]) -> list[Normalize]:
        items = node.get("items")
        prefix = node.get("prefixItems", items if isinstance(items, list) else [])
        rest = self.build(items if isinstance(items, Mapping) else node.get("additionalItems"))
        heads = [self.build(sub) for sub in prefix] if isinstance(prefix, list) else []
        if rest is None and all(step is None for step in heads):
            return []

        def normalize(value: Any) -> Any:
            if not isinstance(value, list):
                return value
            out = []
            for index, member in enumerate(value):
                step = heads[index] if index < len(heads) else rest
                out.append(step(member) if step is not None else member)
            return out

        return [normalize]

    def _choice(self, branches: list[Any]) -> Normalize:
        pairs = [(self.build(branch), self.compiler.node(branch, ()).valid) for branch in branches]

        def normalize(value: Any) -> Any:
            for step, valid in pairs:
                candidate = step(value) if step is not None else value
                if valid(candidate):
                    return candidate
            return value

        return normalize


def _chain(steps: list[Normalize]) -> Normalize | None:
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]

    def normalize(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return normalize


def normalizer(document: Mapping[str, Any]) -> Normalize:
    """value in the strict form -> the same value in `document`'s own form."""
    step = _Builder(document).build(document)
    return step if step is not None else (lambda value: value)


__all__ = ["normalizer", "nullable", "strict_form"]
