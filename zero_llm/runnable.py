"""The manager as LCEL: ``RunnableLambda(route) | RunnableBranch(per-model pipelines)``.

In: a string, a dict ``{"input", "task"?, "context"?, "session_id"?, "model"?, "format"?}``,
a prompt value or messages. Out: an ``AIMessage`` (streamed as ``AIMessageChunk``s) whose
``response_metadata`` carries the route, the model that answered, retries, fallbacks and
Ollama's counts, and whose ``additional_kwargs["reasoning_content"]`` holds the thinking.
Each pipeline is a ``ZeroChatModel`` pinned to its model, so every path runs on the one
core; the route decided here is handed down as the chat model's ``route`` call argument,
not made twice. The composition is LangChain's own (``RunnableLambda``,
``RunnableBranch``), so runs, callbacks and streaming are LangChain's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, get_buffer_string
from langchain_core.prompt_values import PromptValue
from langchain_core.runnables import Runnable, RunnableBranch, RunnableLambda
from pydantic import ConfigDict

from zero_llm.catalog import Catalog, ModelSpec
from zero_llm.chat_model import ZeroChatModel
from zero_llm.requests import QueryRequest, parse_runnable_input
from zero_llm.routing.router import RouteDecision

__all__ = ["RoutedRequest", "build_router_runnable"]


class RoutedRequest(PromptValue):
    """A checked request with the role chosen for it: the value between route and branch.

    It is a LangChain ``PromptValue``, so the chat model it is routed to takes it as its
    input (its messages are the request's prompt) and nothing is re-packed on the way.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    request: QueryRequest
    role: str
    decision: RouteDecision | None = None

    def to_messages(self) -> list[BaseMessage]:
        """The request's prompt, as the chat model receives it."""
        return list(self.request.prompt)

    def to_string(self) -> str:
        """The prompt as text (LangChain's string form of a prompt value)."""
        return get_buffer_string(self.to_messages())

    def call_kwargs(self) -> dict[str, Any]:
        """The chat model's call arguments: the session, ``format``, and the route made."""
        request = self.request
        kwargs: dict[str, Any] = {"session_id": request.session_id, "format": request.format}
        if request.model is not None:
            kwargs["model"] = request.model
        if self.decision is not None:
            kwargs["route"] = self.decision
        return kwargs


def _pipeline(role: str, chat: ZeroChatModel) -> Runnable[RoutedRequest, AIMessage]:
    """One model's pipeline, a chain run named ``zero_llm.<role>`` around the chat model's run.

    LangChain's ``RunnableLambda`` runs the chat model it returns on the routed request
    (whole or streamed), with the lambda's run as its parent: the callbacks are LangChain's.
    """

    def answer(routed: RoutedRequest) -> Runnable[RoutedRequest, AIMessage]:
        return chat.bind(**routed.call_kwargs())

    async def aanswer(routed: RoutedRequest) -> Runnable[RoutedRequest, AIMessage]:
        return answer(routed)

    pipeline: RunnableLambda[RoutedRequest, Any] = RunnableLambda(
        answer, afunc=aanswer, name=f"zero_llm.{role}"
    )
    return pipeline


def build_router_runnable(
    catalog: Catalog,
    decide: Callable[[QueryRequest], Awaitable[tuple[ModelSpec, RouteDecision | None]]],
    chats: Mapping[str, ZeroChatModel],
) -> Runnable[Any, AIMessage]:
    """Build ``route | RunnableBranch((is_role, pipeline)..., default pipeline)``.

    ``decide`` is the core's routing step (sticky per stored session); sync callers run
    it through the chat models' sync bridge.
    """

    async def aroute_input(value: Any) -> RoutedRequest:
        request = parse_runnable_input(value)
        spec, decision = await decide(request)
        role = catalog.find_role(spec.name) or catalog.default_role
        return RoutedRequest(request=request, role=role, decision=decision)

    bridge = chats[catalog.default_role].runtime.bridge

    def route_input(value: Any) -> RoutedRequest:
        routed: RoutedRequest = bridge.run(aroute_input(value))
        return routed

    def is_role(role: str) -> Runnable[RoutedRequest, bool]:
        return RunnableLambda(lambda routed: routed.role == role, name=f"is_{role}")

    pipelines = {role: _pipeline(role, chats[role]) for role in catalog.roles}
    branches = [
        (is_role(role), pipelines[role]) for role in catalog.roles if role != catalog.default_role
    ]
    default = pipelines[catalog.default_role]
    branch: Runnable[RoutedRequest, AIMessage] = (
        RunnableBranch(*branches, default) if branches else default
    )
    router = RunnableLambda(route_input, afunc=aroute_input, name="zero_llm.route")
    return (router | branch).with_config(run_name="zero_llm")
