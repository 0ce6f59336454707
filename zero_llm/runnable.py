"""The manager as LCEL: ``RunnableLambda(route) | RunnableBranch(per-model pipelines)``.

In: a string, a dict ``{"input", "task"?, "context"?, "session_id"?, "model"?, "format"?}``,
a prompt value or messages. Out: an ``AIMessage`` (streamed as ``AIMessageChunk``s) whose
``response_metadata`` carries the route, the model that answered, retries, fallbacks and
Ollama's counts, and whose ``additional_kwargs["reasoning_content"]`` holds the thinking.
Each pipeline is a ``ZeroChatModel`` pinned to its model, so every path runs on the one
core; the route decided here is handed down, not made twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.runnables import Runnable, RunnableBranch, RunnableConfig, RunnableLambda
from langchain_core.runnables.config import (
    ensure_config,
    get_async_callback_manager_for_config,
    get_callback_manager_for_config,
    patch_config,
)

from zero_llm.catalog import Catalog, ModelSpec
from zero_llm.chat_model import ZeroChatModel
from zero_llm.requests import QueryRequest, parse_runnable_input
from zero_llm.routing.router import RouteDecision

__all__ = ["ModelPipeline", "RoutedRequest", "build_router_runnable"]


@dataclass(frozen=True)
class RoutedRequest:
    """A checked request with the role chosen for it."""

    request: QueryRequest
    role: str
    decision: RouteDecision | None

    def call_kwargs(self) -> dict[str, Any]:
        """The chat model's keyword arguments for this request."""
        request = self.request
        kwargs: dict[str, Any] = {"session_id": request.session_id, "format": request.format}
        if request.model is not None:
            kwargs["model"] = request.model
        if self.decision is not None:
            kwargs["route_decision"] = self.decision
        return kwargs


class ModelPipeline(Runnable[RoutedRequest, AIMessage]):
    """One model's pipeline: its ``ZeroChatModel`` for requests routed to ``role``.

    Each call is one chain run named ``zero_llm.<role>`` (through LangChain's public
    callback managers) with the chat-model run inside it.
    """

    def __init__(self, role: str, chat: ZeroChatModel) -> None:
        self.role = role
        self.chat = chat
        self.name = f"zero_llm.{role}"

    def _start(self, input: RoutedRequest, config: RunnableConfig | None) -> tuple[Any, Any]:
        config = ensure_config(config)
        run = get_callback_manager_for_config(config).on_chain_start(
            None, {"input": input.request.text}, name=self.name, run_id=config.pop("run_id", None)
        )
        return run, patch_config(config, callbacks=run.get_child())

    async def _astart(self, input: RoutedRequest, config: RunnableConfig | None) -> tuple[Any, Any]:
        config = ensure_config(config)
        run = await get_async_callback_manager_for_config(config).on_chain_start(
            None, {"input": input.request.text}, name=self.name, run_id=config.pop("run_id", None)
        )
        return run, patch_config(config, callbacks=run.get_child())

    def invoke(
        self, input: RoutedRequest, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        """Answer a routed request whole."""
        run, child = self._start(input, config)
        try:
            answer = self.chat.invoke(list(input.request.prompt), child, **input.call_kwargs())
        except BaseException as exc:
            run.on_chain_error(exc)
            raise
        run.on_chain_end(answer)
        return answer

    async def ainvoke(
        self, input: RoutedRequest, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        """Answer a routed request whole."""
        run, child = await self._astart(input, config)
        try:
            prompt = list(input.request.prompt)
            answer = await self.chat.ainvoke(prompt, child, **input.call_kwargs())
        except BaseException as exc:
            await run.on_chain_error(exc)
            raise
        await run.on_chain_end(answer)
        return answer

    def stream(
        self, input: RoutedRequest, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        """Stream the answer to a routed request as AIMessageChunks."""
        run, child = self._start(input, config)
        whole: AIMessageChunk | None = None
        try:
            for chunk in self.chat.stream(list(input.request.prompt), child, **input.call_kwargs()):
                whole = chunk if whole is None else whole + chunk
                yield chunk
        except BaseException as exc:
            run.on_chain_error(exc)
            raise
        run.on_chain_end(whole)

    async def astream(
        self, input: RoutedRequest, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        """Stream the answer to a routed request as AIMessageChunks."""
        run, child = await self._astart(input, config)
        whole: AIMessageChunk | None = None
        prompt = list(input.request.prompt)
        try:
            async for chunk in self.chat.astream(prompt, child, **input.call_kwargs()):
                whole = chunk if whole is None else whole + chunk
                yield chunk
        except BaseException as exc:
            await run.on_chain_error(exc)
            raise
        await run.on_chain_end(whole)


def build_router_runnable(
    catalog: Catalog,
    decide: Callable[[QueryRequest], Awaitable[tuple[ModelSpec, RouteDecision | None]]],
    run_sync: Callable[[Coroutine[Any, Any, Any]], Any],
    chats: Mapping[str, ZeroChatModel],
) -> Runnable[Any, AIMessage]:
    """Build ``route | RunnableBranch((is_role, pipeline)..., default pipeline)``.

    ``decide`` is the core's routing step (sticky per stored session); ``run_sync`` runs
    it for sync callers.
    """

    async def aroute_input(value: Any) -> RoutedRequest:
        request = parse_runnable_input(value)
        spec, decision = await decide(request)
        role = catalog.find_role(spec.name) or catalog.default_role
        return RoutedRequest(request, role, decision)

    def route_input(value: Any) -> RoutedRequest:
        routed: RoutedRequest = run_sync(aroute_input(value))
        return routed

    def is_role(role: str) -> Runnable[RoutedRequest, bool]:
        return RunnableLambda(lambda routed: routed.role == role, name=f"is_{role}")

    pipelines = {role: ModelPipeline(role, chats[role]) for role in catalog.roles}
    branches = [
        (is_role(role), pipelines[role]) for role in catalog.roles if role != catalog.default_role
    ]
    default = pipelines[catalog.default_role]
    branch: Runnable[RoutedRequest, AIMessage] = (
        RunnableBranch(*branches, default) if branches else default
    )
    router = RunnableLambda(route_input, afunc=aroute_input, name="zero_llm.route")
    return (router | branch).with_config(run_name="zero_llm")
