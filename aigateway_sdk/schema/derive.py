"""Python types -> JSON Schema + decoder. One `Deriver` builds one document: classes go to
`$defs` under their names (a recursive class refers to itself by `$ref`), everything else is
inlined. The supported types and their schemas:

    str, int, float, bool, None       string, integer, number, boolean, null
    Any                               {} (any JSON value)
    list[X], Sequence[X]              array of X
    tuple[X, ...] / tuple[X, Y]       array of X / prefixItems, exactly that many items
    set[X], frozenset[X]              array of X with uniqueItems
    dict[str, X], Mapping[str, X]     object with additionalProperties X
    Literal[...], Enum subclasses     enum of the values (with their JSON type)
    X | None, Optional[X]             type list with null, or anyOf [X, null]
    X | Y, Union[X, Y]                anyOf
    Annotated[X, "text"]              X with a description
    Annotated[X, Constraints(...)]    X with the constraints' keywords
    datetime, date                    string, format date-time / date
    NewType("N", X)                   X
    attrs classes, dataclasses,       object: properties, required (fields without a
    TypedDicts (generic ones too)     default), additionalProperties false, descriptions
    pydantic models                   the model's own model_json_schema()

Anything else raises `ValidationError` naming the field path and the type.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Callable, Mapping, MutableMapping, MutableSequence, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Literal, NewType, TypeVar

from aigateway_sdk.schema import decoders
from aigateway_sdk.schema.checks import ORDER
from aigateway_sdk.schema.compiler import compile_in
from aigateway_sdk.schema.constraints import Constraints
from aigateway_sdk.schema.decoders import Decoder
from aigateway_sdk.schema.fields import (
    class_fields,
    has_fields,
    is_pydantic_model,
    is_typeddict,
    summary,
)
from aigateway_sdk.schema.jsonvalues import key, type_name
from aigateway_sdk.validation import FieldError, ValidationError

Where = tuple[str, ...]
Derived = tuple[dict[str, Any], Decoder | None]
"""A schema fragment and its decoder (None: the JSON value as it is)."""

_SCALARS: dict[Any, Derived] = {
    str: ({"type": "string"}, None),
    bool: ({"type": "boolean"}, None),
    int: ({"type": "integer"}, decoders.to_int),
    float: ({"type": "number"}, decoders.to_float),
    type(None): ({"type": "null"}, None),
    None: ({"type": "null"}, None),
    Any: ({}, None),
    dt.datetime: ({"type": "string", "format": "date-time"}, decoders.iso(dt.datetime)),
    dt.date: ({"type": "string", "format": "date"}, decoders.iso(dt.date)),
}
_LISTS = (list, Sequence, MutableSequence)
_SETS = {set: set, frozenset: frozenset, AbstractSet: frozenset}
_DICTS = (dict, Mapping, MutableMapping)
_UNIONS = (typing.Union, types.UnionType)
_COMBINATORS = ("enum", "const", "anyOf", "oneOf", "allOf", "not", "$ref")


class Refused(Exception):
    """A type no schema can be derived from; `Deriver.derive` turns it into a FieldError."""


def _describe(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


def types_of(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> frozenset[str] | None:
    """The JSON types a derived fragment admits (None: any)."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(declared)
    if "$ref" in schema:
        target = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
        return types_of(target, defs) if target is not schema else None
    if "anyOf" in schema:
        found: set[str] = set()
        for branch in schema["anyOf"]:
            branch_types = types_of(branch, defs)
            if branch_types is None:
                return None
            found |= branch_types
        return frozenset(found)
    return None


def _enum_schema(values: list[Any]) -> dict[str, Any]:
    names = {type_name(value) for value in values}
    if {"integer", "number"} <= names:
        names.discard("integer")
    ordered = [name for name in ORDER if name in names]
    return {"type": ordered[0] if len(ordered) == 1 else ordered, "enum": values}


class Deriver:
    """Derives one document. `defs` fills as classes are met; `finish` returns the root."""

    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}
        self._names: dict[Any, str] = {}
        self._decoders: dict[Any, Decoder] = {}
        self._unions: list[tuple[list[dict[str, Any]], list[Decoder | None], list[Any]]] = []
        self.problems: list[FieldError] = []

    # -- entry points ---------------------------------------------------------------------

    def derive(self, tp: Any, where: Where) -> Derived:
        try:
            return self._derive(tp, where)
        except Refused as refused:
            self.problems.append(FieldError(where, str(refused)))
        except (NameError, TypeError, AttributeError) as error:  # unresolvable annotations
            message = f"cannot read the type {_describe(tp)}: {error}"
            self.problems.append(FieldError(where, message))
        return {}, None

    def finish(self, root: dict[str, Any]) -> dict[str, Any]:
        """The document: the root (a class's object schema inlined), `$defs` when any."""
        document = dict(root)
        target = _local_ref(root)
        if target is not None and set(root) == {"$ref"}:
            body = self.defs[target]
            document = dict(body)
            if not _referenced(target, self.defs):
                del self.defs[target]
        if self.defs:
            document["$defs"] = self.defs
        return document

    def bind_unions(self, document: dict[str, Any]) -> None:
        """Give each union's decoder the compiled checks of its branches."""
        for fragments, inners, cell in self._unions:
            checks = compile_in(document, list(fragments))
            cell.extend((check.valid, inner) for check, inner in zip(checks, inners, strict=True))

    # -- dispatch -------------------------------------------------------------------------

    def _derive(self, tp: Any, where: Where) -> Derived:
        if _hashable(tp) and tp in _SCALARS:
            schema, decoder = _SCALARS[tp]
            return dict(schema), decoder
        if isinstance(tp, NewType):
            return self._derive(tp.__supertype__, where)
        if isinstance(tp, TypeVar):
            raise Refused(f"the type variable {tp} is not bound to a type")
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return _enum(tp)
        origin = typing.get_origin(tp)
        if origin is not None:
            return self._generic(tp, origin, typing.get_args(tp), where)
        if tp in _LISTS or tp in _DICTS or tp in _SETS or tp is tuple:
            return self._generic(tp, tp, (), where)
        if is_pydantic_model(tp):
            return self._pydantic(tp)
        if has_fields(tp):
            return self._class(tp, tp, {}, where)
        raise Refused(_refusal(tp))

    def _generic(self, tp: Any, origin: Any, args: tuple[Any, ...], where: Where) -> Derived:
        handler = self._handler(origin)
        if handler is not None:
            return handler(tp, args, where)
        if has_fields(origin) and not is_pydantic_model(origin):
            parameters = getattr(origin, "__parameters__", ())
            return self._class(tp, origin, dict(zip(parameters, args, strict=False)), where)
        raise Refused(_refusal(tp))

    def _handler(self, origin: Any) -> Callable[[Any, tuple[Any, ...], Where], Derived] | None:
        if origin is typing.Annotated:
            return self._annotated
        if origin is Literal:
            return lambda tp, args, where: _literal(args)
        if origin in _UNIONS:
            return self._union
        if origin in _LISTS:
            return self._list
        if origin is tuple:
            return self._tuple
        if origin in _SETS:
            return lambda tp, args, where: self._set(_SETS[origin], args, where)
        if origin in _DICTS:
            return self._dict
        return None

    # -- containers -----------------------------------------------------------------------

    def _list(self, tp: Any, args: tuple[Any, ...], where: Where) -> Derived:
        items, inner = self.derive(args[0] if args else Any, (*where, "[]"))
        return {"type": "array", "items": items}, (
            decoders.list_of(inner) if inner is not None else None
        )

    def _set(self, build: type, args: tuple[Any, ...], where: Where) -> Derived:
        items, inner = self.derive(args[0] if args else Any, (*where, "[]"))
        schema = {"type": "array", "items": items, "uniqueItems": True}
        return schema, decoders.collection_of(inner, build)

    def _tuple(self, tp: Any, args: tuple[Any, ...], where: Where) -> Derived:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            items, inner = self.derive(args[0] if args else Any, (*where, "[]"))
            return {"type": "array", "items": items}, decoders.collection_of(inner, tuple)
        if args == ((),):  # tuple[()]
            args = ()
        derived = [self.derive(arg, (*where, f"[{i}]")) for i, arg in enumerate(args)]
        schema: dict[str, Any] = {"type": "array", "minItems": len(args), "maxItems": len(args)}
        if derived:
            schema["prefixItems"] = [fragment for fragment, _ in derived]
        schema["items"] = False
        return schema, decoders.tuple_of(tuple(inner for _, inner in derived))

    def _dict(self, tp: Any, args: tuple[Any, ...], where: Where) -> Derived:
        if args and args[0] is not str:
            raise Refused(f"{_describe(tp)}: JSON object keys are strings; use dict[str, ...]")
        values, inner = self.derive(args[1] if args else Any, (*where, "{}"))
        schema = {"type": "object", "additionalProperties": values or True}
        return schema, decoders.dict_of(inner) if inner is not None else None

    # -- unions and annotations -----------------------------------------------------------

    def _union(self, tp: Any, args: tuple[Any, ...], where: Where) -> Derived:
        others = [arg for arg in args if arg not in (None, type(None))]
        nullable = len(others) < len(args)
        derived = [self.derive(arg, where) for arg in others]
        if len(derived) == 1:
            schema, inner = derived[0]
            merged = _with_null(schema) if nullable else schema
            return merged, decoders.optional(inner) if nullable and inner is not None else inner
        branches = [fragment for fragment, _ in derived]
        inners = [inner for _, inner in derived]
        if nullable:
            branches.append({"type": "null"})
            inners.append(None)
        schema = {"anyOf": branches}
        if all(inner is None for inner in inners):
            return schema, None
        cell: list[Any] = []
        self._unions.append((branches, inners, cell))
        return schema, decoders.union(cell)

    def _annotated(self, tp: Any, args: tuple[Any, ...], where: Where) -> Derived:
        schema, inner = self.derive(args[0], where)
        schema = dict(schema)
        for metadata in tp.__metadata__:
            if isinstance(metadata, str):
                schema["description"] = metadata
            elif isinstance(metadata, Constraints):
                try:
                    schema.update(metadata.keywords(types_of(schema, self.defs)))
                except ValueError as error:
                    raise Refused(f"{_describe(args[0])}: {error}") from None
                if metadata.description is not None:
                    schema["description"] = metadata.description
        return schema, inner

    # -- classes --------------------------------------------------------------------------

    def _def_name(self, tp: Any, cls: type) -> str:
        name = cls.__name__
        arguments = typing.get_args(tp) if tp is not cls else ()
        if arguments:
            name += "_" + "_".join(_describe(arg) for arg in arguments)
        name = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in name)
        taken = set(self.defs) | set(self._names.values())
        candidate, number = name, 2
        while candidate in taken:
            candidate, number = f"{name}_{number}", number + 1
        return candidate

    def _class(self, tp: Any, cls: type, bindings: dict[Any, Any], where: Where) -> Derived:
        if _hashable(tp) and tp in self._decoders:
            return {"$ref": f"#/$defs/{self._names[tp]}"}, self._decoders[tp]
        name = self._names[tp] = self._def_name(tp, cls)
        cell: list[Decoder] = []
        self._decoders[tp] = decoders.deferred(cell)
        self.defs[name] = {}  # reserved while the fields are derived
        members: list[decoders.Member] = []
        properties: dict[str, Any] = {}
        required: list[str] = []
        for field in class_fields(cls, bindings):
            fragment, inner = self.derive(field.hint, (*where, field.prop))
            if field.description and "description" not in fragment:
                fragment = {**fragment, "description": field.description}
            properties[field.prop] = fragment
            members.append((field.prop, field.argument, inner))
            if field.required:
                required.append(field.prop)
        body: dict[str, Any] = {"type": "object"}
        description = summary(cls)
        if description:
            body["description"] = description
        body.update(properties=properties, required=required, additionalProperties=False)
        self.defs[name] = body
        build: Callable[..., Any] = dict if is_typeddict(cls) else cls
        decoder = decoders.instance_of(build, tuple(members), cls.__name__)
        cell.append(decoder)
        self._decoders[tp] = decoder
        return {"$ref": f"#/$defs/{name}"}, decoder

    def _pydantic(self, model: type) -> Derived:
        """A pydantic model's own schema; its `$defs` join the document's (renamed when a
        name is taken by something else)."""
        if model in self._decoders:
            return {"$ref": f"#/$defs/{self._names[model]}"}, self._decoders[model]
        schema = dict(model.model_json_schema())  # type: ignore[attr-defined]
        renames: dict[str, str] = {}
        for name, definition in dict(schema.pop("$defs", {})).items():
            renames[name] = self._place(name, definition)
        body = _rename_refs(schema, renames)
        target = _local_ref(body)
        if target is None or set(body) != {"$ref"}:
            target = self._place(model.__name__, body)
        for placed in renames.values():
            self.defs[placed] = _rename_refs(self.defs[placed], renames)
        self._names[model] = target
        self._decoders[model] = decoders.model_of(model)
        return {"$ref": f"#/$defs/{target}"}, self._decoders[model]

    def _place(self, name: str, body: Any) -> str:
        """Put `body` in `$defs` under `name`, or a free variant of it; the name used."""
        candidate, number = name, 2
        while candidate in self.defs and self.defs[candidate] != body:
            candidate, number = f"{name}_{number}", number + 1
        self.defs[candidate] = body
        return candidate


def _hashable(tp: Any) -> bool:
    try:
        hash(tp)
    except TypeError:
        return False
    return True


def _refusal(tp: Any) -> str:
    if tp is object:
        return "object says nothing about the value; use Any or a concrete type"
    if isinstance(tp, type):
        return (
            f"{tp.__name__} is not an attrs class, a dataclass, a TypedDict or a pydantic "
            "model, nor a type with a JSON Schema (str, int, float, bool, None, list, tuple, "
            "set, dict, Literal, Enum, datetime, date)"
        )
    return f"no JSON Schema for {_describe(tp)}"


def _enum(cls: type[enum.Enum]) -> Derived:
    members = list(cls)
    bad = [member for member in members if not _is_json_scalar(member.value)]
    if bad:
        raise Refused(f"{cls.__name__}.{bad[0].name}: its value {bad[0].value!r} is not JSON")
    schema = _enum_schema([member.value for member in members])
    description = summary(cls)
    if description:
        schema["description"] = description
    table = {key(member.value): member for member in members}
    return schema, decoders.lookup(table, f"{cls.__name__} value")


def _literal(args: tuple[Any, ...]) -> Derived:
    values = [arg.value if isinstance(arg, enum.Enum) else arg for arg in args]
    bad = [value for value in values if not _is_json_scalar(value)]
    if bad:
        raise Refused(f"Literal value {bad[0]!r} is not a JSON string, number, boolean or null")
    if all(type(arg) is str for arg in args):  # the validated string is the value itself
        return _enum_schema(values), None
    table = {key(value): arg for value, arg in zip(values, args, strict=True)}
    return _enum_schema(values), decoders.lookup(table, "allowed value")


def _is_json_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _with_null(schema: dict[str, Any]) -> dict[str, Any]:
    """X | None: null added to X's type list when X is a plain typed schema, else anyOf."""
    declared = schema.get("type")
    if declared is not None and not any(word in schema for word in _COMBINATORS):
        names = [declared] if isinstance(declared, str) else list(declared)
        if "null" not in names:
            names.append("null")
        return {**schema, "type": names}
    if schema == {} or schema.get("type") == "null":
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _local_ref(schema: Mapping[str, Any]) -> str | None:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return ref[len("#/$defs/") :]
    return None


def _referenced(name: str, defs: Mapping[str, Any]) -> bool:
    wanted = f"#/$defs/{name}"

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            return node.get("$ref") == wanted or any(walk(value) for value in node.values())
        if isinstance(node, list):
            return any(walk(value) for value in node)
        return False

    return walk(list(defs.values()))


def _rename_refs(node: Any, renames: Mapping[str, str]) -> Any:
    """A copy of `node` with `#/$defs/<old>` references pointing at the renamed definitions."""
    if isinstance(node, dict):
        copied = {name: _rename_refs(value, renames) for name, value in node.items()}
        target = _local_ref(copied)
        if target is not None and target in renames:
            copied["$ref"] = f"#/$defs/{renames[target]}"
        return copied
    if isinstance(node, list):
        return [_rename_refs(value, renames) for value in node]
    return node


def derive_document(spec: Any, where: Where) -> tuple[dict[str, Any], Decoder | None]:
    """The whole document for a type and its decoder; ValidationError lists every problem."""
    deriver = Deriver()
    root, decoder = deriver.derive(spec, where)
    if deriver.problems:
        raise ValidationError(deriver.problems, what="schema")
    document = deriver.finish(root)
    deriver.bind_unions(document)
    return document, decoder


__all__ = ["Deriver", "derive_document", "types_of"]
