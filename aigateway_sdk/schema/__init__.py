"""Schemas for tools and structured output, with no I/O: a JSON Schema derived from Python
types (or given as a dict), a validator compiled once that names the failing path, and the
typed value decoded from a model's JSON.

    from aigateway_sdk.schema import Schema, parameters_of, Constraints

    schema = Schema.of(Invoice)            # attrs, dataclass, TypedDict, pydantic, list[...],
    schema.json_schema                     # or a JSON Schema dict
    invoice = schema.decode(reply_json)    # Invoice, or SchemaMismatch naming the paths
    schema.strict_json_schema()            # OpenAI's strict structured-output form

    tool_parameters = parameters_of(get_weather)   # a typed function's parameters

Pydantic is optional: its models are recognised by `model_json_schema` / `model_validate`.
"""

from aigateway_sdk.schema.constraints import Constraints, Injected
from aigateway_sdk.schema.errors import SchemaError, SchemaMismatch
from aigateway_sdk.schema.parameters import parameters_of
from aigateway_sdk.schema.schema import Schema

__all__ = [
    "Constraints",
    "Injected",
    "Schema",
    "SchemaError",
    "SchemaMismatch",
    "parameters_of",
]
