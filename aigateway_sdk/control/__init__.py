"""The control plane: gateways declared as code (`AiGateway`), plan/apply (`GatewayAdmin`),
the request log (`LogsClient`) and loading specs from TOML or `module:object`."""

from aigateway_sdk.control.admin import ApplyResult, GatewayAdmin, ensure_gateway
from aigateway_sdk.control.loader import SpecLoadError, load_specs, parse_toml, specs_from_data
from aigateway_sdk.control.logs import LogFilter, LogsClient
from aigateway_sdk.control.models import Gateway, LogBody, LogEntry
from aigateway_sdk.control.plan import Create, FieldChange, NoChange, Plan, Update, plan_for
from aigateway_sdk.control.spec import AiGateway, GatewaySettings, gateway_id_from_name

__all__ = [
    "AiGateway",
    "ApplyResult",
    "Create",
    "FieldChange",
    "Gateway",
    "GatewayAdmin",
    "GatewaySettings",
    "LogBody",
    "LogEntry",
    "LogFilter",
    "LogsClient",
    "NoChange",
    "Plan",
    "SpecLoadError",
    "Update",
    "ensure_gateway",
    "gateway_id_from_name",
    "load_specs",
    "parse_toml",
    "plan_for",
    "specs_from_data",
]
