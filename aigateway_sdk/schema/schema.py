"""`Schema[T]`: a JSON Schema to send to a model, the compiled check of the model's JSON
against it, and the typed value built from that JSON.

    schema = Schema.of(Weather)          # an attrs class, dataclass, TypedDict, pydantic
    schema.json_schema                   # model, a type like list[int], or a JSON Schema dict
    weather = schema.decode(json_value)  # Weather, or SchemaMismatch naming the failing paths

`decode` accepts the value in either form a model may have been asked for: `json_schema`
itself, or `strict_json_schema()` (OpenAI's strict form, where an optional property comes
as null): such a null is dropped before the value is built, so the field's default applies.
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Mapping
from typing import Any, Generic, TypeVar, overload

import attrs

from aigateway_sdk import _json
from aigateway_sdk.schema.checks import MAX_ERRORS, Check
from aigateway_sdk.schema.compiler import compile_schema
from aigateway_sdk.schema.decoders import Decoder
from aigateway_sdk.schema.derive import derive_document
from aigateway_sdk.schema.errors import DecodeFailure, SchemaError, SchemaMismatch
from aigateway_sdk.schema.fields import has_fields, is_pydantic_model, summary
from aigateway_sdk.schema.jsonvalues import copy_json, thaw
from aigateway_sdk.schema.strict import Normalize, normalizer, strict_form
from aigateway_sdk.validation import FieldError, ValidationError

T = TypeVar("T")

NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
"""What providers accept as a tool or schema name."""
DEFAULT_NAME = "output"


_TOO_DEEP = SchemaError((), "the value is nested too deeply to check")
"""A value deeper than Python's recursion allows (a hostile or broken reply): refused, not a
`RecursionError`."""


def _refused_by_code(error: Exception) -> SchemaError:
    text = f"{type(error).__name__}: {error}"
    return SchemaError((), f"the value could not be built ({text[:200]})")


@attrs.frozen(slots=True)
class _StrictForm:
    """The strict form, compiled, and the way from a value in it back to the original form;
    `differs` is False when the strict form is the schema itself."""

    document: dict[str, Any]
    check: Check
    normalize: Normalize
    differs: bool


def check_name(name: Any, *, what: str = "name") -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        message = f"{name!r} must match ^[a-zA-Z0-9_-]{{1,64}}$"
        raise ValidationError([FieldError((what,), message)], what="schema")
    return name


def _errors_of(check: Check, value: Any) -> list[SchemaError]:
    found: list[SchemaError] = []
    check.collect(value, (), found)
    return found[:MAX_ERRORS] or [SchemaError((), "does not match the schema")]


class Schema(Generic[T]):
    """A JSON Schema, its compiled check and the decoder to `T`. Build one with `Schema.of`;
    it is immutable. `name` matches ^[a-zA-Z0-9_-]{1,64}$ (the class's name, `name=`, or
    "output"); `description` is the class docstring's first paragraph, when there is one."""

    __slots__ = ("_check", "_decoder", "_document", "_strict", "description", "name")

    name: str
    description: str | None
    _document: dict[str, Any]
    _decoder: Decoder | None
    _check: Check
    _strict: _StrictForm | None

    def __init__(
        self,
        document: dict[str, Any],
        *,
        name: str,
        description: str | None,
        decoder: Decoder | None,
        check: Check,
    ) -> None:
        """Internal: use `Schema.of` (or `parameters_of`)."""
        for slot, value in (
            ("_document", document),
            ("name", name),
            ("description", description),
            ("_decoder", decoder),
            ("_check", check),
            ("_strict", None),
        ):
            object.__setattr__(self, slot, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Schema is immutable; cannot set {name}")

    def __repr__(self) -> str:
        return f"Schema(name={self.name!r})"

    # -- building -------------------------------------------------------------------------

    @overload
    @classmethod
    def of(cls, spec: Schema[T], *, name: str | None = None) -> Schema[T]: ...
    @overload
    @classmethod
    def of(cls, spec: type[T], *, name: str | None = None) -> Schema[T]: ...
    @overload
    @classmethod
    def of(cls, spec: Mapping[str, Any], *, name: str | None = None) -> Schema[Any]: ...
    @overload
    @classmethod
    def of(cls, spec: Any, *, name: str | None = None) -> Schema[Any]: ...

    @classmethod
    def of(cls, spec: Any, *, name: str | None = None) -> Schema[Any]:
        """The schema of `spec`: a type (see `aigateway_sdk.schema.derive` for the list), a
        JSON Schema dict (checked; `decode` returns the validated JSON value as it is), or a
        `Schema` (returned as is, or renamed). Unsupported or malformed: `ValidationError`."""
        if name is not None:
            check_name(name)
        if isinstance(spec, Schema):
            return spec if name is None or name == spec.name else spec._renamed(name)
        if isinstance(spec, Mapping):
            return _json_schema_of(spec, name)
        try:
            hash(spec)
        except TypeError:  # unhashable metadata in an Annotated: no caching
            return _from_type(spec, name)
        # repr too: `int | float` == `float | int`, but the first branch decodes a 1
        return _cached_from_type(spec, repr(spec), name)

    @classmethod
    def _built(
        cls,
        document: Any,
        *,
        name: str,
        description: str | None,
        decoder: Decoder | None,
        what: str,
    ) -> Schema[Any]:
        problems: list[FieldError] = []
        copied = copy_json(document, (), problems)
        if problems:
            raise ValidationError(problems, what=what)
        if not isinstance(copied, dict):
            raise ValidationError([FieldError((), "must be a JSON object")], what=what)
        check = compile_schema(copied, what=what)
        return Schema(copied, name=name, description=description, decoder=decoder, check=check)

    def _renamed(self, name: str) -> Schema[T]:
        return Schema(
            self._document,
            name=name,
            description=self.description,
            decoder=self._decoder,
            check=self._check,
        )

    # -- reading --------------------------------------------------------------------------

    @property
    def json_schema(self) -> Mapping[str, Any]:
        """The JSON Schema (a fresh copy each time: change it freely)."""
        return typing.cast(Mapping[str, Any], thaw(self._document))

    def strict_json_schema(self) -> Mapping[str, Any]:
        """OpenAI's strict form: every object has `additionalProperties: false` and lists all
        its properties as required, the optional ones made nullable (a fresh copy)."""
        return typing.cast(Mapping[str, Any], thaw(self._strict_form().document))

    def _strict_form(self) -> _StrictForm:
        if self._strict is None:
            document = strict_form(self._document)
            differs = document != self._document
            check = compile_schema(document) if differs else self._check
            form = _StrictForm(document, check, normalizer(self._document), differs)
            object.__setattr__(self, "_strict", form)
        assert self._strict is not None
        return self._strict

    # -- checking and decoding ------------------------------------------------------------

    def decode(self, value: Any) -> T:
        """The typed value of a JSON value (as `json.loads` gives it). `SchemaMismatch` when
        it does not validate or cannot be built, each error naming its path: also when it is
        nested too deeply to follow, or a class's own code refuses it while it is built."""
        try:
            return self._decode(value)
        except SchemaMismatch:
            raise
        except RecursionError:
            raise SchemaMismatch((_TOO_DEEP,)) from None
        except Exception as error:  # a class's own __init__ / __post_init__ / validator
            raise SchemaMismatch((_refused_by_code(error),)) from error

    def _decode(self, value: Any) -> T:
        if self._check.valid(value):
            decoder = self._decoder
            if decoder is None:
                return typing.cast(T, value)
            try:
                return typing.cast(T, decoder(value))
            except DecodeFailure as failure:
                raise SchemaMismatch(failure.errors) from None
        built, errors = self._slow(value)
        if errors:
            raise SchemaMismatch(errors)
        return typing.cast(T, built)

    def errors(self, value: Any) -> tuple[SchemaError, ...]:
        """Every violation (up to 20), each with its path; () when `decode` would succeed."""
        try:
            if self._check.valid(value):
                return tuple(self._build(value)[1])
            return tuple(self._slow(value)[1])
        except RecursionError:
            return (_TOO_DEEP,)
        except Exception as error:  # a class's own code refused the value
            return (_refused_by_code(error),)

    def _build(self, value: Any) -> tuple[Any, list[SchemaError]]:
        if self._decoder is None:
            return value, []
        try:
            return self._decoder(value), []
        except DecodeFailure as failure:
            return None, failure.errors

    def _slow(self, value: Any) -> tuple[Any, list[SchemaError]]:
        """A value that failed the check: maybe it is in the strict form; else, why not."""
        form = self._strict_form()
        if form.differs and form.check.valid(value):
            normalized = form.normalize(value)
            if self._check.valid(normalized):
                return self._build(normalized)
        errors = _errors_of(self._check, value)
        if form.differs:
            strict_errors = _errors_of(form.check, value)
            if len(strict_errors) < len(errors):
                errors = strict_errors
        return None, errors


def _from_json_schema(spec: Mapping[str, Any], name: str | None) -> Schema[Any]:
    description = spec.get("description")
    return Schema._built(
        spec,
        name=name or DEFAULT_NAME,
        description=description if isinstance(description, str) else None,
        decoder=None,
        what="JSON Schema",
    )


@functools.lru_cache(maxsize=256)
def _cached_from_json(text: bytes, name: str | None) -> Schema[Any]:
    spec: dict[str, Any] = _json.loads(text)
    return _from_json_schema(spec, name)


def _json_schema_of(spec: Mapping[str, Any], name: str | None) -> Schema[Any]:
    """A JSON Schema dict's `Schema`, compiled once per distinct document (a dict given on
    every call, as `generate_object(schema={...})` does, is not compiled again each time)."""
    try:
        text = _json.dumps(spec)
    except (TypeError, ValueError):  # not JSON: the uncached path names the problem
        return _from_json_schema(spec, name)
    if _json.loads(text) != spec:  # written otherwise than given (NaN as null, a tuple as a
        return _from_json_schema(spec, name)  # list): checked as given, never from the cache
    return _cached_from_json(text, name)


def _class_of(spec: Any) -> type | None:
    origin = typing.get_origin(spec) or spec
    if isinstance(origin, type) and (has_fields(origin) or is_pydantic_model(origin)):
        return origin
    return None


def _from_type(spec: Any, name: str | None) -> Schema[Any]:
    cls = _class_of(spec)
    where = (cls.__name__,) if cls is not None else (getattr(spec, "__name__", "output"),)
    document, decoder = derive_document(spec, where)
    if name is None:
        name = check_name(cls.__name__) if cls is not None else DEFAULT_NAME
    description = summary(cls) if cls is not None else document.get("description")
    return Schema._built(
        document,
        name=name,
        description=description if isinstance(description, str) else None,
        decoder=decoder,
        what="schema",
    )


@functools.lru_cache(maxsize=256)
def _cached_from_type(spec: Any, spelled: str, name: str | None) -> Schema[Any]:
    """`_from_type`, once per type (a derivation reads annotations; a call should not)."""
    return _from_type(spec, name)


__all__ = ["NAME", "Schema", "check_name"]
