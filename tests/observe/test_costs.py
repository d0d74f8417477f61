"""Nothing is imported or paid for observability when it is off: a plain call loads neither
OpenTelemetry nor the instrumentation, even where OpenTelemetry is installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, sys, httpx
from aigateway_sdk import GatewayBinding
def reply(request):
    if b'"stream":true' in request.content:
        return httpx.Response(200, content=b'data: {"response":"hi"}\\n\\ndata: [DONE]\\n\\n',
                              headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json={"result": {"response": "hi"}, "success": True,
                                     "errors": [], "messages": []})
async def main():
    async with GatewayBinding(account_id="a", gateway_id="g", api_token="t",
                              transport=httpx.MockTransport(reply)) as b:
        lm = b.model("@cf/meta/llama-3.1-8b-instruct")
        await lm.generate_text(prompt="hi")
        await lm.stream_text(prompt="hi").collect()
        await b.embedding_model("@cf/baai/bge-small-en-v1.5").embed([])
asyncio.run(main())
print(sorted(m for m in sys.modules if m.startswith(("opentelemetry", "aigateway_sdk.observe"))))
"""


def test_a_plain_call_imports_no_opentelemetry() -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AIGATEWAY_LOG")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=environ,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    loaded = done.stdout.strip().splitlines()[-1]
    assert (
        loaded
        == "['aigateway_sdk.observe', 'aigateway_sdk.observe.hooks', 'aigateway_sdk.observe.log']"
    )
