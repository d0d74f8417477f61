"""`parameters_of(fn)`: the object schema of a function's parameters, for a tool built from a
typed function. Each parameter needs an annotation; one with a default is optional; its
description comes from `Annotated[X, "text"]` or the docstring (Google `Args:`, NumPy
`Parameters`, Sphinx `:param x:`); the docstring's first paragraph is the description of
the whole. Parameters the caller supplies (`Annotated[T, Injected]`, a dependency-injector
`Provide[...]` default) are left out. `decode(arguments)` gives the keyword arguments with
typed values; defaults are not filled in (the call uses them)."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

from aigateway_sdk.schema.constraints import is_injected
from aigateway_sdk.schema.decoders import Member, instance_of
from aigateway_sdk.schema.derive import Deriver
from aigateway_sdk.schema.docstrings import parse_docstring
from aigateway_sdk.schema.schema import Schema, check_name
from aigateway_sdk.validation import FieldError, ValidationError

_REFUSED_KINDS = {
    inspect.Parameter.VAR_POSITIONAL: "*args cannot be described to a model; name each parameter",
    inspect.Parameter.VAR_KEYWORD: "**kwargs cannot be described to a model; name each parameter",
    inspect.Parameter.POSITIONAL_ONLY: "is positional-only; a tool is called with named arguments",
}


def _name_of(fn: Callable[..., Any]) -> Any:
    name = getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", None)
    return name or type(fn).__name__


def _injected(parameter: inspect.Parameter) -> bool:
    annotation = parameter.annotation
    if typing.get_origin(annotation) is typing.Annotated:
        if any(is_injected(marker) for marker in annotation.__metadata__):
            return True
        annotation = typing.get_args(annotation)[0]
    default = parameter.default
    return is_injected(default) or (isinstance(annotation, type) and is_injected(annotation))


def _signature(fn: Callable[..., Any], name: str) -> inspect.Signature:
    try:
        return inspect.signature(fn, eval_str=True)
    except NameError as error:
        message = f"cannot resolve an annotation: {error}"
    except (TypeError, ValueError) as error:
        message = f"has no signature to describe: {error}"
    raise ValidationError([FieldError((name,), message)], what="parameters")


def _unwrapped(fn: Callable[..., Any]) -> tuple[Callable[..., Any], frozenset[str]]:
    """The function a `functools.partial` wraps (for its docstring), and the keywords the
    partials bind (the caller supplies them: not parameters the model fills)."""
    bound: set[str] = set()
    while isinstance(fn, functools.partial):
        bound.update(fn.keywords)
        fn = fn.func
    return fn, frozenset(bound)


def parameters_of(fn: Callable[..., Any], *, name: str | None = None) -> Schema[dict[str, Any]]:
    """The schema of `fn`'s parameters (see the module docstring); `ValidationError` names
    every parameter that cannot be described. `name` names the schema (default: the
    function's name, which must then be a valid tool name). Keywords a `functools.partial`
    binds are left out, and its function's docstring describes it."""
    name = check_name(name if name is not None else _name_of(fn), what="function name")
    signature = _signature(fn, name)
    inner_fn, bound = _unwrapped(fn)
    doc = parse_docstring(inspect.getdoc(inner_fn))
    deriver = Deriver()
    problems: list[FieldError] = []
    properties: dict[str, Any] = {}
    required: list[str] = []
    members: list[Member] = []
    for index, parameter in enumerate(signature.parameters.values()):
        where = (name, parameter.name)
        if parameter.kind in _REFUSED_KINDS:
            problems.append(FieldError(where, _REFUSED_KINDS[parameter.kind]))
            continue
        if index == 0 and parameter.name in ("self", "cls"):
            problems.append(FieldError(where, "pass a bound method or a plain function"))
            continue
        if _injected(parameter) or parameter.name in bound:
            continue
        if parameter.annotation is inspect.Parameter.empty:
            problems.append(FieldError(where, "has no type annotation"))
            continue
        fragment, inner = deriver.derive(parameter.annotation, where)
        text = doc.params.get(parameter.name)
        if text and "description" not in fragment:
            fragment = {**fragment, "description": text}
        properties[parameter.name] = fragment
        members.append((parameter.name, parameter.name, inner))
        if parameter.default is inspect.Parameter.empty:
            required.append(parameter.name)
    problems.extend(deriver.problems)
    if problems:
        raise ValidationError(problems, what="parameters")
    document: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if deriver.defs:
        document["$defs"] = deriver.defs
    deriver.bind_unions(document)
    return Schema._built(
        document,
        name=name,
        description=doc.summary,
        decoder=instance_of(dict, tuple(members), name),
        what="parameters",
    )


__all__ = ["parameters_of"]
