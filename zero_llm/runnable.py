"""The manager as LCEL: ``RunnableLambda(route) | RunnableBranch(per-model pipelines)``.

In: a string, a dict ``{"input", "task"?, "context"?, "session_id"?, "model"?}``, a
prompt value or messages. Out: an ``AIMessage`` (streamed as ``AIMessageChunk``s) whose
``response_metadata`` carries the route, the model that answered, retries, fallbacks and
Ollama's counts, and whose ``additional_kwargs["reasoning_content"]`` holds the thinking.
Each pipeline drives the manager's one query core, so retries, deadlines and fallbacks
are the same as ``query_model``'s; callbacks flow down to the ChatOllama calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import AsyncCallbackManagerForChainRun
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.messages.ai import UsageMetadata
from langchain_core.runnables import Runnable, RunnableBranch, RunnableConfig, RunnableLambda
from langchain_core.runnables.config import patch_config

from zero_llm.answer import CallTrace
from zero_llm.requests import QueryRequest, parse_runnable_input
from zero_llm.router import RouteDecision

if TYPE_CHECKING:
    from zero_llm.manager import ModelManager

__all__ = ["ModelPipeline", "RoutedRequest", "build_router_runnable"]


@dataclass(frozen=True)
class RoutedRequest:
    """A checked request with the role chosen for it."""

    request: QueryRequest
    role: str
    decision: RouteDecision | None


def _final_metadata(trace: CallTrace) -> dict[str, Any]:
    meta = trace.metadata()
    meta["model_name"] = trace.model
    meta["model_provider"] = "ollama"
    return meta


def _usage(trace: CallTrace) -> UsageMetadata | None:
    if trace.prompt_tokens is None or trace.output_tokens is None:
        return None
    return UsageMetadata(
        input_tokens=trace.prompt_tokens,
        output_tokens=trace.output_tokens,
        total_tokens=trace.prompt_tokens + trace.output_tokens,
    )


class ModelPipeline(Runnable[RoutedRequest, AIMessage]):
    """One model's pipeline: the manager's query core for requests routed to ``role``."""

    def __init__(self, manager: ModelManager, role: str) -> None:
        self.manager = manager
        self.role = role
        self.name = f"zero_llm.{role}"

    def _request(self, routed: RoutedRequest) -> QueryRequest:
        if routed.request.model is not None:
            return routed.request
        return replace(routed.request, model=self.manager.catalog.models[self.role].name)

    async def _chunks(
        self,
        routed: RoutedRequest,
        run_manager: AsyncCallbackManagerForChainRun,
        config: RunnableConfig,
        stream: bool,
    ) -> AsyncIterator[AIMessageChunk]:
        child = patch_config(config, callbacks=run_manager.get_child())
        chunks, trace = self.manager.chunks(self._request(routed), child, stream=stream)
        trace.route = routed.decision
        async for chunk in chunks:
            yield AIMessageChunk(
                content=chunk.content,
                additional_kwargs=dict(chunk.additional_kwargs),
                id=chunk.id,
            )
        yield AIMessageChunk(
            content="",
            response_metadata=_final_metadata(trace),
            usage_metadata=_usage(trace),
            chunk_position="last",
        )

    async def _ainvoke(
        self,
        routed: RoutedRequest,
        run_manager: AsyncCallbackManagerForChainRun,
        config: RunnableConfig,
    ) -> AIMessage:
        whole: AIMessageChunk | None = None
        async for chunk in self._chunks(routed, run_manager, config, stream=False):
            whole = chunk if whole is None else whole + chunk
        assert whole is not None
        return AIMessage(
            content=whole.content,
            additional_kwargs=whole.additional_kwargs,
            response_metadata=whole.response_metadata,
            usage_metadata=whole.usage_metadata,
            id=whole.id,
        )

    async def ainvoke(
        self, input: RoutedRequest, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        """Answer a routed request whole."""
        return await self._acall_with_config(self._ainvoke, input, config, **kwargs)

    def invoke(
        self, input: RoutedRequest, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        """Sync twin of ``ainvoke`` over the same core."""
        return self.manager._bridge.run(self.ainvoke(input, config, **kwargs))

    async def _atransform(
        self,
        inputs: AsyncIterator[RoutedRequest],
        run_manager: AsyncCallbackManagerForChainRun,
        config: RunnableConfig,
    ) -> AsyncIterator[AIMessageChunk]:
        routed = None
        async for item in inputs:
            routed = item
        assert routed is not None
        async for chunk in self._chunks(routed, run_manager, config, stream=True):
            yield chunk

    async def astream(
        self, input: RoutedRequest, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[AIMessageChunk]:
        """Stream the answer to a routed request as AIMessageChunks."""

        async def once() -> AsyncIterator[RoutedRequest]:
            yield input

        async for chunk in self._atransform_stream_with_config(
            once(), self._atransform, config, **kwargs
        ):
            yield chunk  # type: ignore[misc]  # chunks of the AIMessage output

    def stream(
        self, input: RoutedRequest, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        """Sync twin of ``astream`` over the same core."""
        return self.manager._bridge.iterate(self.astream(input, config, **kwargs))


def build_router_runnable(manager: ModelManager) -> Runnable[Any, AIMessage]:
    """Build ``route | RunnableBranch((is_role, pipeline)..., default pipeline)``."""
    catalog = manager.catalog

    def route_input(value: Any) -> RoutedRequest:
        request = parse_runnable_input(value)
        if request.model is not None:
            role = catalog.find_role(request.model)
            if role is None:
                catalog.resolve(request.model)  # raises UnknownModelError naming the model
            return RoutedRequest(request, role or catalog.default_role, None)
        decision = manager.route(request.text, request.task)
        return RoutedRequest(request, decision.role, decision)

    def is_role(role: str) -> Runnable[RoutedRequest, bool]:
        return RunnableLambda(lambda routed: routed.role == role, name=f"is_{role}")

    pipelines = {role: ModelPipeline(manager, role) for role in catalog.roles}
    branches = [
        (is_role(role), pipelines[role]) for role in catalog.roles if role != catalog.default_role
    ]
    default = pipelines[catalog.default_role]
    branch: Runnable[RoutedRequest, AIMessage] = (
        RunnableBranch(*branches, default) if branches else default
    )
    return (RunnableLambda(route_input, name="zero_llm.route") | branch).with_config(
        run_name="zero_llm"
    )
