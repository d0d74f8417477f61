"""Workers AI's model catalog: the model search route, its query parameters, the fields of a
model object, and the error Workers AI answers for a model it does not have.

Sources (docs/cloudflare-contract.md, "Model catalog"):
- the route and its parameters: the `cloudflare` Python package 5.x,
  `resources/ai/models/models.py` (`GET /accounts/{account_id}/ai/models/search`, a
  `V4PagePaginationArray`), and https://developers.cloudflare.com/api/resources/ai/subresources/models/methods/list/
- a model object: workerd's `AiModelsSearchObject` (`env.AI.models()`), and the objects
  Cloudflare's docs publish from that API (cloudflare-docs, src/content/workers-ai-models/*.json):
  `id` is a UUID, `name` the model id (`@cf/meta/llama-3.1-8b-instruct`), `task` an object,
  `created_at` a `YYYY-MM-DD HH:MM:SS.mmm` text, `properties` a list of
  `{property_id, value}` where `value` is a string, or a list of prices for `price`.
- the error: https://developers.cloudflare.com/workers-ai/workers-ai-errors ("No such model",
  internal code 5007, HTTP 400, "No such model ${model} or task").

Values marked "ours" are not documented by Cloudflare.
"""

from __future__ import annotations

MODELS_SEARCH_PATH = "/accounts/{account_id}/ai/models/search"
"""The model search, under the API base (`https://api.cloudflare.com/client/v4`)."""

SEARCH_PARAMS = (
    "author",
    "format",
    "hide_experimental",
    "include_deprecated",
    "page",
    "per_page",
    "search",
    "source",
    "task",
)
"""The query parameters of the model search (`cloudflare.types.ai.ModelListParams`)."""

FORMATS = ("openrouter",)
"""The values `format` takes (another marketplace's shape instead of Cloudflare's)."""

MODEL_FIELDS = (
    "id",
    "source",
    "name",
    "description",
    "task",
    "created_at",
    "tags",
    "properties",
)
"""The fields of a model object, in Cloudflare's order (`task` is `{id, name, description}`,
`properties` a list of `{property_id, value}`)."""

TASK_TEXT_GENERATION = "Text Generation"
TASK_TEXT_EMBEDDINGS = "Text Embeddings"
"""Task names as the catalog spells them (the `task` filter takes a task's name)."""

DEFAULT_PER_PAGE = 50
"""Models per page when `per_page` is not given (ours)."""
MAX_PER_PAGE = 1000
"""The largest `per_page` the local gateway takes (ours)."""

WORKERS_AI_MODEL_PREFIX = "@cf/"
"""The namespace of Workers AI's own models."""

NO_SUCH_MODEL_CODE = 5007
NO_SUCH_MODEL_STATUS = 400
"""Workers AI's answer to a model id it does not serve ("No such model")."""


MODEL_ECHO_MAX = 200
"""The characters of an unknown model id that its error quotes (ours): the id comes from the
request, and a 1 MB one must not come back whole."""


def no_such_model_message(model: str) -> str:
    """Workers AI's message for an unknown model id (a long id cut, ending with `...`)."""
    shown = model if len(model) <= MODEL_ECHO_MAX else f"{model[:MODEL_ECHO_MAX]}..."
    return f"No such model {shown} or task"


__all__ = [
    "DEFAULT_PER_PAGE",
    "FORMATS",
    "MAX_PER_PAGE",
    "MODELS_SEARCH_PATH",
    "MODEL_ECHO_MAX",
    "MODEL_FIELDS",
    "NO_SUCH_MODEL_CODE",
    "NO_SUCH_MODEL_STATUS",
    "SEARCH_PARAMS",
    "TASK_TEXT_EMBEDDINGS",
    "TASK_TEXT_GENERATION",
    "WORKERS_AI_MODEL_PREFIX",
    "no_such_model_message",
]
