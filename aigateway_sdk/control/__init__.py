"""The control plane: gateways declared as code (`AiGateway`, with `SpendLimits`), dynamic
routes (`AiRoute`, `RouteAdmin`), plan/apply (`GatewayAdmin`), the request log (`LogsClient`)
and loading specs from TOML or `module:object`."""

from aigateway_sdk.contract.routes import Conditional, End, Model, Percentage, Rate, Start
from aigateway_sdk.contract.spend import SpendFilter, SpendLimits, SpendPartition, SpendRule
from aigateway_sdk.control.admin import ApplyResult, GatewayAdmin, ensure_gateway
from aigateway_sdk.control.loader import SpecLoadError, load_specs, parse_toml, specs_from_data
from aigateway_sdk.control.logs import LogFilter, LogsClient
from aigateway_sdk.control.models import Gateway, LogBody, LogEntry
from aigateway_sdk.control.plan import Create, FieldChange, NoChange, Plan, Update, plan_for
from aigateway_sdk.control.routes_admin import RouteAdmin, RouteApplyResult
from aigateway_sdk.control.routes_loader import load_routes, parse_routes_toml, routes_from_data
from aigateway_sdk.control.routes_models import Route, RouteDeployment, RouteVersion
from aigateway_sdk.control.routes_plan import (
    CreateRoute,
    ElementChange,
    NewRouteVersion,
    RouteNoChange,
    RoutePlan,
    plan_route,
)
from aigateway_sdk.control.routes_spec import AiRoute, canonical_elements
from aigateway_sdk.control.spec import AiGateway, GatewaySettings, gateway_id_from_name

__all__ = [
    "AiGateway",
    "AiRoute",
    "ApplyResult",
    "Conditional",
    "Create",
    "CreateRoute",
    "ElementChange",
    "End",
    "FieldChange",
    "Gateway",
    "GatewayAdmin",
    "GatewaySettings",
    "LogBody",
    "LogEntry",
    "LogFilter",
    "LogsClient",
    "Model",
    "NewRouteVersion",
    "NoChange",
    "Percentage",
    "Plan",
    "Rate",
    "Route",
    "RouteAdmin",
    "RouteApplyResult",
    "RouteDeployment",
    "RouteNoChange",
    "RoutePlan",
    "RouteVersion",
    "SpecLoadError",
    "SpendFilter",
    "SpendLimits",
    "SpendPartition",
    "SpendRule",
    "Start",
    "Update",
    "canonical_elements",
    "ensure_gateway",
    "gateway_id_from_name",
    "load_routes",
    "load_specs",
    "parse_routes_toml",
    "parse_toml",
    "plan_for",
    "plan_route",
    "routes_from_data",
    "specs_from_data",
]
