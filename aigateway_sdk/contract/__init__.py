"""Cloudflare AI Gateway's contract, written down once for the SDK and the local gateway.

What Cloudflare names and bounds — the `cf-aig-*` headers and their limits (`headers`), the
retry vocabulary shared by headers, Universal steps and gateway settings (`limits`), a
gateway's settable fields with their rules (`gateway`), custom cost (`cost`) and the log
vocabulary: fields, filter operators, ordering (`logs`). Where Cloudflare documents no bound,
the value chosen here is marked "ours"; docs/cloudflare-contract.md lists each with its source.

The client (`aigateway_sdk.options`, `aigateway_sdk.control`) and the server
(`aigateway_sdk.local`) import names and limits from here and keep their own parsers, so the
local gateway still tests the client independently; tests/test_contract.py checks at every
boundary that both accept and refuse the same things.

Import rule: nothing here imports `control`, `local`, httpx or any other I/O library; the
package costs next to nothing to import.
"""
