"""`aigateway models`: search Workers AI's model catalog (the local gateway's built-in models
when `--base-url` points at it).

aigateway models                                  # every model
aigateway models --search llama --task "Text Generation"
aigateway models --author baai --json
"""

from __future__ import annotations

import argparse

from aigateway_sdk.catalog import API_BASE_URL, ModelCatalog, ModelInfo
from aigateway_sdk.cli._commands import print_listing
from aigateway_sdk.cli._output import (
    ENV_ACCOUNT_ID,
    ENV_API_BASE_URL,
    ENV_API_TOKEN,
    add_account_flags,
    add_json_flag,
    from_env,
    required,
    run_async,
)
from aigateway_sdk.contract.catalog import DEFAULT_PER_PAGE, MAX_PER_PAGE

DESCRIPTION_CHARS = 60
"""A description is cut to this many characters in the table (`--json` keeps it whole)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "models",
        help="search the Workers AI model catalog",
        description="Search Workers AI's model catalog (/accounts/{account}/ai/models/search).",
    )
    parser.add_argument("--search", help="text in the model's name or description")
    parser.add_argument("--task", help="a task name, e.g. 'Text Generation', 'Text Embeddings'")
    parser.add_argument("--author", help="the id's author segment, e.g. meta, baai")
    parser.add_argument(
        "--per-page",
        type=int,
        default=DEFAULT_PER_PAGE,
        help=f"page size, 1 to {MAX_PER_PAGE}",
    )
    add_account_flags(parser)
    add_json_flag(parser)
    parser.set_defaults(run=run_async(_search))


_COLUMNS = ("name", "task", "context", "description")


def _row(model: ModelInfo) -> list[object]:
    description = model.description
    if len(description) > DESCRIPTION_CHARS:
        description = description[: DESCRIPTION_CHARS - 3].rstrip() + "..."
    task = model.task.name if model.task is not None else None
    return [model.name, task, model.context_window, description]


async def _search(args: argparse.Namespace) -> int:
    catalog = ModelCatalog(
        required(args, "account_id", ENV_ACCOUNT_ID),
        required(args, "api_token", ENV_API_TOKEN),
        from_env(args, "base_url", ENV_API_BASE_URL) or API_BASE_URL,
    )
    async with catalog:
        found = catalog.search(
            args.search, task=args.task, author=args.author, per_page=args.per_page
        )
        models = [model async for model in found]
    return print_listing(args, _COLUMNS, _row, models)
