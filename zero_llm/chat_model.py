"""``ZeroChatModel``: the manager as a LangChain chat model, for ZERO's agents.

In: LangChain messages (any conversation: system, human, AI with tool calls, tool
results), bound tools (with LangChain's ``tool_choice``), ``format`` or
``response_format``, and per call ``task``, ``model``, ``session_id`` and ``route`` (a
``RouteDecision`` made already, e.g. by the LCEL router: the model then does not route
again and reports that decision). Out:
``AIMessage``s (streamed as ``AIMessageChunk``s) with ``tool_calls``, thinking in
``additional_kwargs["reasoning_content"]``, ``usage_metadata``, and ``response_metadata``
naming the model that answered, ``done_reason``, the route and its reason, and the
fallbacks taken. Every call runs through the runtime's one core
(``zero_llm.core.QueryCore``): routing, pull-if-missing, the fixed ``num_ctx``, window
fitting, retries, deadlines, fallbacks, usage records and session memory.

Configuration is scoped: the constructor's ``task``, ``model`` and ``session_id`` are
never overridden by a parent's ``configurable`` (a supervisor's ``{"task": "quick"}``
does not reach its sub-agents). A call changes them by ``bind(...)`` keywords, by
``configurable`` keys prefixed for zero-llm (``zero_llm_task``, ``zero_llm_model``,
``zero_llm_session_id``), or by LangChain's ``configurable_fields`` with ids the user
names; ``configurable_fields`` and ``with_config`` keep the runtime. (LangChain hands a
chat model's ``_generate``/``_stream`` neither the call's config nor, for streams, its run
manager: ``invoke``, ``ainvoke``, ``stream`` and ``astream`` read the prefixed keys, the
thread and the stream's callback handlers, then run LangChain's own.)

Memory rule with a ``session_id``: when the input holds no AI message (a new question,
``query_model`` style), the stored turns that fit are put in front of it; when it holds
one (an agent or a LangGraph checkpointer sends the whole conversation), only the stored
turns from before that conversation's first message are put in front (an agent loop's
earlier steps stored that message; a checkpointer's conversation is not in the store, so
nothing is added). Either way only the messages after the input's last AI message, and the answer,
are stored: the model never sees a message twice and the session holds each turn once.
The conversation's first message is found in the store by its id (LangGraph gives every
message one), never by its text. Inside a LangGraph thread (``thread_id`` in the config)
the graph's checkpointer holds the conversation: with ``session_from_thread=True`` the
session is the thread (``session_id``, if set, is its prefix), so two threads never share
memory; with a fixed ``session_id`` the session only records the thread's turns and
nothing is loaded from it into the thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import replace
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from langchain_core.callbacks import (
    AsyncCallbackManager,
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
    Callbacks,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.chat_models import LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import add_ai_message_chunks
from langchain_core.output_parsers import (
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
    PydanticToolsParser,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import (
    Runnable,
    RunnableConfig,
    RunnableMap,
    RunnablePassthrough,
    ensure_config,
)
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass
from pydantic import ConfigDict, Field
from typing_extensions import is_typeddict

from zero_llm.errors import InvalidRequestError
from zero_llm.requests import QueryRequest, SamplingOverrides, request_from_messages
from zero_llm.routing.router import RouteDecision

if TYPE_CHECKING:  # the runtime is imported when first built or used: importing stays light
    from zero_llm.runtime import Runtime

__all__ = ["ZeroChatModel"]

CALL_KEYS = frozenset(
    {
        "task",
        "model",
        "session_id",
        "tools",
        "tool_choice",
        "format",
        "response_format",
        "strict",
        "route",
        "thread_id",
        "usage_handlers",
    }
)
"""Keywords a call (or ``bind``) may pass."""
CONFIGURABLE_PREFIX = "zero_llm_"
CONFIGURABLE_KEYS = ("task", "model", "session_id")


def _lift_configurable(config: RunnableConfig | None, kwargs: dict[str, Any]) -> None:
    """Take zero-llm's prefixed keys and LangGraph's ``thread_id`` from the call's config.

    The config is the call's merged with the one LangChain or LangGraph runs it in.
    Unprefixed ``task``/``model``/``session_id`` are a parent's business: not read.
    """
    configurable = ensure_config(config).get("configurable") or {}
    for key in CONFIGURABLE_KEYS:
        prefixed = CONFIGURABLE_PREFIX + key
        if prefixed in configurable and key not in kwargs:
            kwargs[key] = configurable[prefixed]
    thread = configurable.get("thread_id")
    if thread is not None and "thread_id" not in kwargs:
        kwargs["thread_id"] = str(thread)


def _pass_handlers(config: RunnableConfig | None, own: Callbacks, kwargs: dict[str, Any]) -> None:
    """Hand the call's callback handlers down for the usage event.

    LangChain calls ``_stream``/``_astream`` without the run manager (``stream``, and
    ``invoke`` when a streaming handler such as LangGraph's ``stream_mode="messages"`` makes
    it stream), so the handlers of the call's config and the model's own travel as a
    keyword instead.
    """
    handlers: list[Any] = []
    for callbacks in (ensure_config(config).get("callbacks"), own):
        found: Any = getattr(callbacks, "handlers", callbacks)
        handlers.extend(h for h in found or () if h not in handlers)
    if handlers:
        kwargs["usage_handlers"] = UsageListeners(handlers)


class UsageListeners:
    """The call's callback handlers, handed to ``_stream``/``_astream`` for the usage event.

    Its repr says nothing about them on purpose: LangChain puts a call's keywords into its
    cache key and into the invocation parameters every tracer records, where handler
    objects (different for every run) do not belong.
    """

    __slots__ = ("handlers",)

    def __init__(self, handlers: Sequence[Any]) -> None:
        self.handlers = tuple(handlers)

    def __repr__(self) -> str:
        return "UsageListeners()"


def _response_format(value: Any) -> str | dict[str, Any] | None:
    """Ollama's ``format`` for a ``response_format`` (OpenAI style, as ProviderStrategy binds)."""
    if value is None:
        return None
    if isinstance(value, dict) and value.get("type") == "json_schema":
        schema = (value.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict):
            return schema
    if isinstance(value, dict) and value.get("type") == "json_object":
        return "json"
    raise InvalidRequestError(
        "response_format must be {'type': 'json_schema', 'json_schema': {'schema': {...}}} "
        f"or {{'type': 'json_object'}}, got {value!r}"
    )


def _message(chunks: Sequence[AIMessageChunk]) -> AIMessage:
    """One ``AIMessage`` from an answer's chunks (tool-call chunks parsed into calls)."""
    whole = add_ai_message_chunks(*chunks)
    return AIMessage(
        content=whole.content,
        additional_kwargs=whole.additional_kwargs,
        response_metadata=whole.response_metadata,
        tool_calls=whole.tool_calls,
        invalid_tool_calls=whole.invalid_tool_calls,
        usage_metadata=whole.usage_metadata,
    )


class HoldsRuntime(Protocol):
    """Anything that holds a runtime (a ``ModelManager``)."""

    runtime: Runtime


class ZeroChatModel(BaseChatModel):
    """A routed chat model over ZERO's local models; see the module docstring.

    Build it with ``ModelManager.chat_model(...)`` (it shares the manager's runtime); built
    alone it builds its runtime from the settings (environment, ``zero_llm.toml``) with
    ``settings`` as overrides, exactly as a manager does.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True)

    task: str | None = None
    """Task type that picks the model (``code``, ``trading``, ...); None: classify."""
    model: str | None = None
    """A catalog model, alias or role that always answers; wins over ``task``."""
    session_id: str | None = None
    """The conversation to remember this model's turns in (see the memory rule)."""
    temperature: float | None = None
    """Sampling temperature for every call; None: the catalog model's own."""
    max_tokens: int | None = None
    """Cap on generated tokens (Ollama's ``num_predict``); None: the catalog's."""
    stop: list[str] | None = None
    """Stop sequences for every call."""
    timeout: float | None = None
    """Seconds for a whole call, retries included; None: ``timeouts.total``."""
    max_retries: int | None = None
    """Retries of transient failures after the first attempt; None: ``retry.max_attempts``."""
    session_from_thread: bool = False
    """Inside a LangGraph graph, use the graph's ``thread_id`` as the session (with
    ``session_id`` as its prefix), so each thread has its own memory."""
    settings: dict[str, Any] = Field(default_factory=dict)
    """Settings overrides for the runtime built when none is given."""
    runtime: Any = Field(default=None, exclude=True, repr=False)
    """The ``Runtime`` this model runs on (a manager's; kept by ``configurable_fields``)."""

    def __init__(self, runtime: Runtime | HoldsRuntime | None = None, **data: Any) -> None:
        if runtime is not None:
            data["runtime"] = getattr(runtime, "runtime", runtime)  # a manager's, or itself
        super().__init__(**data)

    @property
    def _wired(self) -> Runtime:
        """The runtime (built from ``settings`` on first use when none was given)."""
        if self.runtime is None:
            from zero_llm.runtime import runtime_from_overrides

            self.runtime = runtime_from_overrides(None, self.settings)
        return cast("Runtime", self.runtime)

    # ----------------------------------------------------- LangChain identity
    @property
    def _llm_type(self) -> str:
        return "zero-llm"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "model": self.model,
            "session_id": self.session_id,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "ollama"
        name = kwargs.get("model") or self.model
        if name is None:
            params["ls_model_name"] = "zero-llm-router"
        else:  # a name not in the catalog is named as given: the call itself will say so
            catalog = self._wired.catalog
            role = catalog.find_role(str(name))
            params["ls_model_name"] = catalog.models[role].name if role else name
        return params

    # -------------------------------------------------------------- counting
    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Tokens the prompt of ``messages`` (and ``tools``) takes for this model's calls.

        Exact for the model the call would go to (its template, default system prompt and
        vocabulary), offline once that model's facts are known, so
        ``trim_messages(..., token_counter=chat_model)`` works.
        """
        from zero_llm.counting import prompt_tokens

        count = prompt_tokens(self._wired, messages, model=self.model, task=self.task, tools=tools)
        return self._wired.bridge.run(count)

    def get_num_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the vocabulary of the model a call would go to."""
        from zero_llm.counting import text_tokens

        count = text_tokens(self._wired, text, model=self.model, task=self.task)
        return self._wired.bridge.run(count)

    # ----------------------------------------------------------------- tools
    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools the model may call, with LangChain's ``tool_choice``.

        Ollama has no ``tool_choice``; zero-llm enforces it: ``"none"`` sends no tools,
        ``"any"``/``"required"`` or a tool's name make the model call a tool (that one),
        its answer constrained by Ollama's ``format`` (``zero_llm.tool_schema``).
        """
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def with_structured_output(  # type: ignore[override]
        self,
        schema: dict[str, Any] | type,
        *,
        method: Literal["function_calling", "json_mode", "json_schema"] = "json_schema",
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Answers shaped as ``schema`` (Pydantic, TypedDict or JSON schema).

        ``json_schema`` sends the schema as Ollama's ``format``; ``json_mode`` sends
        ``format: "json"``; ``function_calling`` binds the schema as the one tool.
        """
        kwargs.pop("strict", None)
        if kwargs:
            raise InvalidRequestError(f"with_structured_output got unknown arguments {kwargs}")
        pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
        trace_format = {"kwargs": {"method": method}, "schema": schema}
        llm: Runnable[Any, Any]
        parser: Runnable[Any, Any]
        if method == "function_calling":
            tool = convert_to_openai_tool(schema)
            llm = self.bind_tools([schema], ls_structured_output_format=trace_format)
            parser = (
                PydanticToolsParser(tools=[schema], first_tool_only=True)  # type: ignore[list-item]
                if pydantic
                else JsonOutputKeyToolsParser(
                    key_name=tool["function"]["name"], first_tool_only=True
                )
            )
        elif method in ("json_mode", "json_schema"):
            if method == "json_mode":
                format_: Any = "json"
            elif pydantic:  # Pydantic 2, or its v1 API
                dump = getattr(schema, "model_json_schema", None) or schema.schema  # type: ignore[union-attr]
                format_ = dump()
            elif is_typeddict(schema):
                format_ = convert_to_json_schema(schema)
                format_.setdefault("required", list(format_.get("properties", {})))
            elif isinstance(schema, dict):
                format_ = convert_to_json_schema(schema) if "function" in schema else schema
            else:
                raise InvalidRequestError(
                    f"schema must be a Pydantic class, a TypedDict or a JSON schema dict, "
                    f"got {schema!r}"
                )
            llm = self.bind(format=format_, ls_structured_output_format=trace_format)
            parser = (
                PydanticOutputParser(pydantic_object=schema)  # type: ignore[arg-type,type-var]
                if pydantic
                else JsonOutputParser()
            )
        else:
            raise InvalidRequestError(
                f"method must be 'json_schema', 'json_mode' or 'function_calling', got {method!r}"
            )
        if not include_raw:
            return llm | parser
        parsed = RunnablePassthrough.assign(
            parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
        )
        none = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | parsed.with_fallbacks([none], exception_key="parsing_error")

    # ------------------------------------------------------------- the calls
    # LangChain hands ``_generate``/``_stream`` neither the call's config nor (for streams)
    # its run manager, so these four read what zero-llm needs from the config first.

    def _take_call_config(self, config: RunnableConfig | None, kwargs: dict[str, Any]) -> None:
        """Move the config's prefixed keys, thread and handlers into the call's keywords."""
        _lift_configurable(config, kwargs)
        _pass_handlers(config, self.callbacks, kwargs)

    def invoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        """Answer ``input`` (zero-llm's prefixed ``configurable`` keys and thread honoured)."""
        self._take_call_config(config, kwargs)
        return super().invoke(input, config, stop=stop, **kwargs)

    async def ainvoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        """Answer ``input`` (zero-llm's prefixed ``configurable`` keys and thread honoured)."""
        self._take_call_config(config, kwargs)
        return await super().ainvoke(input, config, stop=stop, **kwargs)

    def stream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        """Stream the answer (zero-llm's prefixed ``configurable`` keys and thread honoured)."""
        self._take_call_config(config, kwargs)
        return super().stream(input, config, stop=stop, **kwargs)

    def astream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        """Stream the answer (zero-llm's prefixed ``configurable`` keys and thread honoured)."""
        self._take_call_config(config, kwargs)
        return super().astream(input, config, stop=stop, **kwargs)

    def _request(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> tuple[QueryRequest, RouteDecision | None]:
        unknown = set(kwargs) - CALL_KEYS - {"stream"}
        if unknown:
            raise InvalidRequestError(
                f"ZeroChatModel got unknown call arguments {sorted(unknown)}; "
                f"it takes {sorted(CALL_KEYS)}"
            )
        model = kwargs.get("model", self.model)
        session = kwargs.get("session_id", self.session_id)
        thread = kwargs.get("thread_id")
        load_history = True
        if thread is not None:
            if self.session_from_thread:
                session = f"{session}:{thread}" if session else thread
            else:
                load_history = False  # the checkpointer holds the thread's conversation
        format_ = kwargs.get("format")
        if kwargs.get("response_format") is not None:
            format_ = _response_format(kwargs["response_format"])
        request = request_from_messages(
            messages,
            task=None if model is not None else kwargs.get("task", self.task),
            model=model,
            session_id=session,
            format=format_,
            tools=kwargs.get("tools") or (),
            stop=stop if stop is not None else self.stop,
            sampling=SamplingOverrides(
                self.temperature, self.max_tokens, self.timeout, self.max_retries
            ),
            tool_choice=kwargs.get("tool_choice"),
        )
        if not load_history:
            request = replace(request, load_history=False)
        return request, kwargs.get("route")

    async def _chunks(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | CallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
        *,
        stream: bool,
    ) -> AsyncIterator[AIMessageChunk]:
        request, decided = self._request(messages, stop, kwargs)
        observer = None
        if run_manager is not None and run_manager.handlers:
            observer = AsyncCallbackManager(
                handlers=run_manager.handlers,
                inheritable_handlers=run_manager.inheritable_handlers,
                parent_run_id=run_manager.run_id,
            )
        elif kwargs.get("usage_handlers"):  # a stream: LangChain passed no run manager
            observer = AsyncCallbackManager(handlers=list(kwargs["usage_handlers"].handlers))
        chunks, _ = self._wired.core.chunks(
            request, stream=stream, route=decided, observer=observer
        )
        async for chunk in chunks:
            yield chunk

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return await self._result(messages, stop, run_manager, kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._wired.bridge.run(self._result(messages, stop, run_manager, kwargs))

    async def _result(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | CallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
    ) -> ChatResult:
        chunks = [c async for c in self._chunks(messages, stop, run_manager, kwargs, stream=False)]
        message = _message(chunks)
        return ChatResult(
            generations=[ChatGeneration(message=message)],
            llm_output={"model_name": message.response_metadata.get("model_name")},
        )

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async for chunk in self._chunks(messages, stop, run_manager, kwargs, stream=True):
            generation = ChatGenerationChunk(message=chunk)
            if run_manager is not None:
                await run_manager.on_llm_new_token(chunk.text, chunk=generation)
            yield generation

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        chunks = self._wired.bridge.iterate(
            self._chunks(messages, stop, run_manager, kwargs, stream=True)
        )
        for chunk in chunks:
            generation = ChatGenerationChunk(message=chunk)
            if run_manager is not None:
                run_manager.on_llm_new_token(chunk.text, chunk=generation)
            yield generation
