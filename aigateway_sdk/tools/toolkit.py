"""`Toolkit`: the tools offered to a model, and their handlers, provided through the container.

    weather_toolkit = Toolkit(get_weather, add)

    class Container(containers.DeclarativeContainer):
        get_weather = providers.Object(real_get_weather)
        tools = weather_toolkit.provider(get_weather=get_weather)

    container.get_weather.override(providers.Object(fake_get_weather))  # in a test

`toolkit.provider(...)` is a `Factory`: each time the toolkit is asked for, its handlers are
read from their providers, so overriding one handler's provider reaches the next call without
touching the model. As with any provider of your own, override the container's provider
(`container.get_weather`), not the class's (see README, "Testing your code").

A function tool's dependencies stay out of the schema the model sees when they are marked
(`client: Annotated[WeatherClient, Injected]`, or a dependency-injector `Provide[...]` default
with `@inject` and wiring); the container binds them into the handler:

    tools = toolkit.provider(forecast=providers.Factory(functools.partial, forecast,
                                                        client=weather_client))
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from aigateway_sdk.contract.tools import MAX_TOOLS
from aigateway_sdk.request import TOOL_CHOICES, ToolDefinition, ToolsRequest
from aigateway_sdk.tools.definition import Handler, Tool
from aigateway_sdk.validation import FieldError, ValidationError

if TYPE_CHECKING:
    from dependency_injector import providers


def _invalid(errors: list[FieldError]) -> ValidationError:
    return ValidationError(errors, what="toolkit")


def _index(tools: tuple[Tool, ...]) -> Mapping[str, Tool]:
    by_name: dict[str, Tool] = {}
    errors: list[FieldError] = []
    for position, item in enumerate(tools):
        if not isinstance(item, Tool):
            errors.append(FieldError((str(position),), f"is a {type(item).__name__}, not a Tool"))
        elif item.name in by_name:
            errors.append(FieldError((item.name,), "two tools have this name"))
        else:
            by_name[item.name] = item
    if len(tools) > MAX_TOOLS:
        errors.append(
            FieldError(("tools",), f"at most {MAX_TOOLS} tools (OpenAI's limit), got {len(tools)}")
        )
    if errors:
        raise _invalid(errors)
    return by_name


@attrs.frozen(slots=True, init=False)
class Toolkit:
    """Tools with distinct names. Handlers come with the tools, or from `with_handlers` /
    `provider`; a toolkit without any handler only describes tools (the model's calls are
    returned to the caller)."""

    tools: tuple[Tool, ...]
    _by_name: Mapping[str, Tool] = attrs.field(eq=False, repr=False)

    def __init__(self, *tools: Tool) -> None:
        self.__attrs_init__(tuple(tools), _index(tuple(tools)))

    def __iter__(self) -> Iterator[Tool]:
        return iter(self.tools)

    def __len__(self) -> int:
        return len(self.tools)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tools)

    def get(self, name: str) -> Tool | None:
        """The tool named `name`, or None."""
        return self._by_name.get(name)

    def handles(self, name: str) -> bool:
        """True when the toolkit has the tool `name` and a handler for it."""
        found = self._by_name.get(name)
        return found is not None and found.handler is not None

    @property
    def has_handlers(self) -> bool:
        """True when at least one tool has a handler."""
        return any(t.handler is not None for t in self.tools)

    def with_handlers(self, **handlers: Handler) -> Toolkit:
        """A new toolkit whose tools named by the keywords are handled by the given callables
        (sync or async, taking what the tool's handler takes); other tools keep theirs."""
        errors = [
            FieldError((name,), "no tool has this name; the tools are: " + ", ".join(self.names))
            for name in handlers
            if name not in self._by_name
        ]
        errors += [
            FieldError((name,), f"the handler must be callable, got {type(h).__name__}")
            for name, h in handlers.items()
            if name in self._by_name and not callable(h)
        ]
        if errors:
            raise _invalid(errors)
        return Toolkit(
            *(t.with_handler(handlers[t.name]) if t.name in handlers else t for t in self.tools)
        )

    def definitions(self, *, strict: bool = False) -> tuple[ToolDefinition, ...]:
        """Every tool as the model sees it."""
        return tuple(t.definition(strict=strict) for t in self.tools)

    def request(
        self, choice: str = "auto", *, parallel: bool | None = None, strict: bool = False
    ) -> ToolsRequest:
        """What a model call offers: the definitions and the tool choice ("auto", "none",
        "required", or the name of one of the tools)."""
        if not isinstance(choice, str) or (
            choice not in TOOL_CHOICES and choice not in self._by_name
        ):
            raise _invalid(
                [
                    FieldError(
                        ("tool_choice",),
                        f"must be auto, none, required or a tool's name, got {choice!r}; "
                        f"the tools are: {', '.join(self.names) or '(none)'}",
                    )
                ]
            )
        return ToolsRequest(self.definitions(strict=strict), choice, parallel)

    def provider(self, **handler_providers: Any) -> providers.Factory[Toolkit]:
        """A dependency-injector `Factory` of this toolkit handled by what the given providers
        give: `toolkit.provider(get_weather=get_weather)` with `get_weather =
        providers.Object(real_get_weather)` (or any provider of a callable, such as
        `service.provided.get_weather`). Wrap a plain handler in `providers.Object`: the
        container deep-copies plain arguments."""
        unknown = [name for name in handler_providers if name not in self._by_name]
        if unknown:
            raise _invalid(
                [
                    FieldError(
                        (name,), "no tool has this name; the tools are: " + ", ".join(self.names)
                    )
                    for name in unknown
                ]
            )
        # The bound method is the factory's `provides`, which dependency-injector does not
        # deep-copy when a container is built (its arguments it does).
        from dependency_injector import providers  # here: a model call never needs it

        return providers.Factory(self.with_handlers, **handler_providers)


__all__ = ["Toolkit"]
