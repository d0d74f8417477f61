"""A local Cloudflare AI Gateway: the data plane, the control plane, caching, rate limiting,
logs in SQLite, authentication and pluggable upstreams, on loopback.

```python
from aigateway_sdk.local import LocalGateway, LocalGatewayConfig

with LocalGateway(LocalGatewayConfig(api_token="secret")) as gw:
    gw.data_url  # like https://gateway.ai.cloudflare.com/v1
    gw.api_url   # like https://api.cloudflare.com/client/v4
```
See docs/local-gateway.md.
"""

from aigateway_sdk.local.app import create_app
from aigateway_sdk.local.clock import Clock, ManualClock, SystemClock
from aigateway_sdk.local.config import (
    LocalGatewayConfig,
    UpstreamRoute,
    routes_from_mapping,
    routes_from_toml,
)
from aigateway_sdk.local.server import LocalGateway

__all__ = [
    "Clock",
    "LocalGateway",
    "LocalGatewayConfig",
    "ManualClock",
    "SystemClock",
    "UpstreamRoute",
    "create_app",
    "routes_from_mapping",
    "routes_from_toml",
]
