"""The fields of the classes a schema can be derived from: attrs classes, dataclasses and
TypedDicts (pydantic models describe themselves). Annotations are resolved with
`typing.get_type_hints(..., include_extras=True)`, so `from __future__ import annotations`,
forward references and `Annotated` all work; a generic class's type variables are replaced by
the arguments it was used with (`Page[Item]`)."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any, NotRequired, Required, TypeVar

import attrs

from aigateway_sdk.schema.docstrings import parse_docstring


@attrs.frozen(slots=True)
class FieldInfo:
    """One field: its JSON property name, the constructor argument it fills, its type, whether
    it must be given (no default), and its description when the class gives one."""

    prop: str
    argument: str
    hint: Any
    required: bool
    description: str | None


def is_pydantic_model(spec: Any) -> bool:
    return (
        isinstance(spec, type)
        and callable(getattr(spec, "model_json_schema", None))
        and callable(getattr(spec, "model_validate", None))
    )


def is_typeddict(spec: Any) -> bool:
    return isinstance(spec, type) and typing.is_typeddict(spec)


def has_fields(spec: Any) -> bool:
    """An attrs class, a dataclass or a TypedDict."""
    return isinstance(spec, type) and (
        attrs.has(spec) or dataclasses.is_dataclass(spec) or is_typeddict(spec)
    )


def summary(cls: type) -> str | None:
    """The first paragraph of the class's own docstring (not the one dataclasses makes up)."""
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str):
        return None
    if dataclasses.is_dataclass(cls) and doc == _generated_doc(cls):
        return None
    return parse_docstring(doc).summary


def _generated_doc(cls: type) -> str | None:
    try:
        return cls.__name__ + str(inspect.signature(cls)).replace(" -> None", "")
    except (TypeError, ValueError):  # pragma: no cover - a signature dataclasses could build
        return None


def _hints(cls: type, bindings: dict[Any, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls, include_extras=True)
    return {name: substitute(hint, bindings) for name, hint in hints.items()}


def substitute(hint: Any, bindings: dict[Any, Any]) -> Any:
    """`hint` with the type variables of a generic class replaced by its arguments."""
    if not bindings:
        return hint
    if isinstance(hint, TypeVar):
        return bindings.get(hint, hint)
    parameters = getattr(hint, "__parameters__", ())
    if parameters and not isinstance(hint, type):
        return hint[tuple(bindings.get(parameter, parameter) for parameter in parameters)]
    return hint


class MissingType(TypeError):
    """A field with no type the schema could be derived from."""


def _hint(hints: dict[str, Any], name: str, declared: Any, cls: type) -> Any:
    """The field's resolved annotation; else the type given to `attrs.field(type=...)`."""
    if name in hints:
        return hints[name]
    if declared is not None and not isinstance(declared, str):
        return declared
    raise MissingType(f"{cls.__name__}.{name} has no type annotation")


def _metadata_description(metadata: Any) -> str | None:
    text = metadata.get("description") if isinstance(metadata, typing.Mapping) else None
    return text if isinstance(text, str) else None


def class_fields(cls: type, bindings: dict[Any, Any]) -> list[FieldInfo]:
    """The fields of an attrs class, a dataclass or a TypedDict, in declaration order."""
    hints = _hints(cls, bindings)
    documented = parse_docstring(cls.__dict__.get("__doc__")).attributes
    if is_typeddict(cls):
        return _typeddict_fields(cls, hints, documented)
    if attrs.has(cls):
        return [
            FieldInfo(
                prop=field.alias or field.name,
                argument=field.alias or field.name,
                hint=_hint(hints, field.name, field.type, cls),
                required=field.default is attrs.NOTHING,
                description=_metadata_description(field.metadata) or documented.get(field.name),
            )
            for field in attrs.fields(cls)
            if field.init
        ]
    return [
        FieldInfo(
            prop=field.name,
            argument=field.name,
            hint=_hint(hints, field.name, field.type, cls),
            required=field.default is dataclasses.MISSING
            and field.default_factory is dataclasses.MISSING,
            description=_metadata_description(field.metadata) or documented.get(field.name),
        )
        for field in dataclasses.fields(cls)
        if field.init
    ]


def _typeddict_fields(
    cls: type, hints: dict[str, Any], documented: typing.Mapping[str, str]
) -> list[FieldInfo]:
    """A TypedDict's keys. Whether a key is required is read from its own `Required[...]` /
    `NotRequired[...]` first: under `from __future__ import annotations` Python 3.11 leaves
    those out of `__required_keys__`, which then only reflects `total=`."""
    found: list[FieldInfo] = []
    required_keys: frozenset[str] = getattr(cls, "__required_keys__", frozenset())
    for name, hint in hints.items():
        required = name in required_keys
        while typing.get_origin(hint) in (Required, NotRequired):
            required = typing.get_origin(hint) is Required
            hint = typing.get_args(hint)[0]
        found.append(FieldInfo(name, name, hint, required, documented.get(name)))
    return found


__all__ = [
    "FieldInfo",
    "MissingType",
    "class_fields",
    "has_fields",
    "is_pydantic_model",
    "is_typeddict",
    "substitute",
    "summary",
]
