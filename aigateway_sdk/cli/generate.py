"""`aigateway generate` and `aigateway stream`: call a model through a gateway.

aigateway generate "Say hello."                     # text, then usage on stderr
aigateway generate "Say hello." --json              # the whole response as JSON
echo "Tell me a story" | aigateway stream -         # text printed as it arrives
aigateway stream "Count to 5" --json                # one JSON object per part (NDJSON)

A gateway with authentication on needs `--gateway-token` or `CLOUDFLARE_GATEWAY_TOKEN`.
"""

from __future__ import annotations

import argparse
import json
import sys

from aigateway_sdk import (
    Finish,
    GatewayBinding,
    GatewayLanguageModel,
    GatewayOptions,
    ModelParameters,
    ResponseMetadata,
    TextDelta,
)
from aigateway_sdk.cli._output import (
    ENV_ACCOUNT_ID,
    ENV_API_TOKEN,
    ENV_DATA_BASE_URL,
    ENV_GATEWAY_TOKEN,
    EXIT_OK,
    CliError,
    add_gateway_flag,
    add_json_flag,
    from_env,
    gateway_id,
    print_json,
    required,
    run_async,
    snake_keys,
)
from aigateway_sdk.errors import (
    GATEWAY_UNAUTHORIZED_CODE,
    AiError,
    AuthenticationFailed,
    UnknownModel,
)

DEFAULT_MODEL = "@cf/meta/llama-3.1-8b-instruct"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    generate = subparsers.add_parser(
        "generate", help="generate text with a model through the gateway"
    )
    _add_call_flags(generate)
    generate.set_defaults(run=run_async(_generate))

    stream = subparsers.add_parser(
        "stream", help="stream text from a model through the gateway, printed as it arrives"
    )
    _add_call_flags(stream)
    stream.set_defaults(run=run_async(_stream))


def _add_call_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt", nargs="?", default="-", help="the prompt ('-': read stdin)")
    parser.add_argument("--model", "-m", default=DEFAULT_MODEL, help=f"default {DEFAULT_MODEL}")
    parser.add_argument("--max-tokens", type=int, help="most tokens to generate")
    parser.add_argument("--temperature", type=float, help="sampling temperature (0..5)")
    parser.add_argument("--skip-cache", action="store_true", help="do not answer from the cache")
    add_gateway_flag(parser)
    group = parser.add_argument_group("account")
    group.add_argument("--account-id", help=f"Cloudflare account id (env {ENV_ACCOUNT_ID})")
    group.add_argument("--api-token", help=f"Cloudflare API token (env {ENV_API_TOKEN})")
    group.add_argument(
        "--gateway-token", help=f"token of an authenticated gateway (env {ENV_GATEWAY_TOKEN})"
    )
    group.add_argument(
        "--gateway-url",
        help=f"data-plane base URL (env {ENV_DATA_BASE_URL}; "
        "default https://gateway.ai.cloudflare.com/v1)",
    )
    add_json_flag(parser)


def _prompt(args: argparse.Namespace) -> str:
    prompt = sys.stdin.read() if args.prompt == "-" else str(args.prompt)
    if not prompt.strip():
        raise CliError("empty prompt")
    return prompt


def _binding_and_model(args: argparse.Namespace) -> tuple[GatewayBinding, GatewayLanguageModel]:
    binding = GatewayBinding(
        account_id=required(args, "account_id", ENV_ACCOUNT_ID),
        gateway_id=gateway_id(args),
        api_token=from_env(args, "api_token", ENV_API_TOKEN),
        gateway_token=from_env(args, "gateway_token", ENV_GATEWAY_TOKEN),
        base_url=from_env(args, "gateway_url", ENV_DATA_BASE_URL),
    )
    parameters = ModelParameters(temperature=args.temperature, max_tokens=args.max_tokens)
    options = GatewayOptions(skip_cache=True) if args.skip_cache else None
    return binding, binding.model(model=args.model, parameters=parameters, options=options)


def _explained(error: AiError, args: argparse.Namespace) -> Exception:
    """A refused gateway token (Cloudflare code 2009) says which flag or variable to set; an
    unknown model id points at `aigateway models`."""
    if isinstance(error.reason, UnknownModel):
        hint = "`aigateway models --search <text>` lists the model ids"
        return CliError(f"{error} ({hint})", kind=error.reason.tag, cause=error)
    if (
        not isinstance(error.reason, AuthenticationFailed)
        or error.code != GATEWAY_UNAUTHORIZED_CODE
    ):
        return error
    gateway = gateway_id(args)
    if from_env(args, "gateway_token", ENV_GATEWAY_TOKEN) is None:
        hint = f"gateway {gateway!r} has authentication on: pass --gateway-token or set"
    else:
        hint = f"gateway {gateway!r} refused the gateway token: check --gateway-token or"
    return CliError(f"{hint} {ENV_GATEWAY_TOKEN} ({error})", kind=error.reason.tag, cause=error)


async def _generate(args: argparse.Namespace) -> int:
    prompt = _prompt(args)
    binding, model = _binding_and_model(args)
    async with binding:
        try:
            response = await model.generate_text(prompt=prompt)
        except AiError as error:
            raise _explained(error, args) from error
    if args.json:
        print_json(
            {
                "text": response.text,
                "model": response.model,
                "finish_reason": response.finish_reason,
                "usage": {
                    "input_tokens": response.usage.input_tokens.total,
                    "output_tokens": response.usage.output_tokens.total,
                },
                "cache_status": response.cache_status,
                "log_id": response.log_id,
            }
        )
        return EXIT_OK
    print(response.text)
    print(
        f"[{response.usage.input_tokens.total} in, {response.usage.output_tokens.total} out, "
        f"cache {response.cache_status or '-'}, log {response.log_id or '-'}]",
        file=sys.stderr,
    )
    return EXIT_OK


async def _stream(args: argparse.Namespace) -> int:
    prompt = _prompt(args)
    binding, model = _binding_and_model(args)
    usage = None
    log_id = None
    async with binding:
        try:
            async for part in model.stream_text(prompt=prompt):
                if args.json:
                    line = json.dumps(snake_keys(part.to_json()), ensure_ascii=False)
                    sys.stdout.write(line + "\n")
                    sys.stdout.flush()
                elif isinstance(part, TextDelta):
                    sys.stdout.write(part.delta)
                    sys.stdout.flush()
                elif isinstance(part, Finish):
                    usage = part.usage
                elif isinstance(part, ResponseMetadata):
                    log_id = part.log_id
        except AiError as error:
            raise _explained(error, args) from error
    if not args.json:
        sys.stdout.write("\n")
        if usage is not None:
            print(
                f"[{usage.input_tokens.total} in, {usage.output_tokens.total} out, "
                f"log {log_id or '-'}]",
                file=sys.stderr,
            )
    return EXIT_OK


__all__ = ["register"]
