"""The one query core: request -> route -> memory -> call -> report -> history and usage.

Every query path drives this: ``ModelManager.query_model`` and ``ask``, ``ZeroChatModel``
(and with it agents, the LCEL runnable and the chains). Data flows one way:

1. **route**: an explicit model or task wins; else the conversation is classified, and a
   follow-up stays on the model its conversation is on unless it is confidently another
   task (``zero_llm.routing``). With tools bound, a model that lacks Ollama's ``tools``
   capability never gets them: its role's ``tool_model`` does, by the role's
   ``tool_policy`` (see ``ModelSpec``).
2. **memory**: with a ``session_id``, the stored turns that can fit are put in front of
   the new messages, unless the caller sends the conversation itself (any AI message
   in the input): then nothing is loaded. Either way only this call's new messages (those
   after the last AI message) and the answer are stored, so the model never sees a
   message twice and the store holds each turn once.
3. **call**: dropped turns summarised first when asked (``calls.summary``), then the
   window fit and fallback x retry x admission around one Ollama call (``calls``).
4. **report**: the ``CallTrace`` (route, host, model, attempts, counts, durations,
   fallbacks), sent as the final chunk's ``response_metadata`` and usage metadata.
5. **history and usage**: the turn (only when the answer is complete) and the usage
   record of every call, failed and cancelled ones included.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from langchain_core.callbacks import AsyncCallbackManager
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.messages.ai import UsageMetadata, add_ai_message_chunks
from langchain_core.messages.tool import tool_call_chunk

from zero_llm.answer import CallTrace
from zero_llm.calls import CallRunner, ModelProfiles
from zero_llm.calls.summary import SummarizedPrompt, summarize_dropped
from zero_llm.catalog import Catalog, ModelSpec
from zero_llm.errors import ZeroLLMError
from zero_llm.history import NewMessage
from zero_llm.history.titles import session_title
from zero_llm.ollama.hosts import HostPool
from zero_llm.ollama.messages import plain_transcript
from zero_llm.requests import QueryRequest
from zero_llm.routing.router import RouteDecision, route
from zero_llm.routing.second_stage import ask_quick_model
from zero_llm.server_models import resolve_on_server
from zero_llm.settings import ZeroLLMSettings
from zero_llm.storage import Storage
from zero_llm.telemetry.switch import TelemetrySwitch
from zero_llm.tokens import EstimatingCounter, TokenCounter
from zero_llm.tool_schema import forced_tool, parse_tool_reply, tool_call_schema, tool_instructions
from zero_llm.usage import USAGE_EVENT, UsageRecord

__all__ = [
    "QueryCore",
    "current_role",
    "response_metadata",
    "summed_usage",
    "usage_metadata",
]

log = logging.getLogger(__name__)

HISTORY_LOAD_SLACK = 4
"""Stored counts come from whichever model answered then: load a quarter more."""
OFF_LOOP_CHARS = 50_000
"""Texts longer than this are counted in a worker thread, never on the shared event loop."""

T = TypeVar("T")


def response_metadata(trace: CallTrace) -> dict[str, Any]:
    """The ``response_metadata`` of an answer: Ollama's fields, the route and what happened."""
    meta = trace.metadata()
    meta.pop("thinking", None)
    meta["model_name"] = trace.model
    meta["model_provider"] = "ollama"
    meta["fallback_note"] = trace.fallback_note
    return meta


def usage_metadata(trace: CallTrace) -> UsageMetadata | None:
    """LangChain's usage metadata of an answer, when Ollama reported both counts."""
    if trace.prompt_tokens is None or trace.output_tokens is None:
        return None
    return UsageMetadata(
        input_tokens=trace.prompt_tokens,
        output_tokens=trace.output_tokens,
        total_tokens=trace.prompt_tokens + trace.output_tokens,
    )


def summed_usage(traces: list[CallTrace]) -> UsageMetadata | None:
    """LangChain's usage metadata of a step: the sum over every Ollama call it made."""
    parts = [usage_metadata(t) for t in traces]
    known = [p for p in parts if p is not None]
    if not known:
        return None
    inputs = sum(p["input_tokens"] for p in known)
    outputs = sum(p["output_tokens"] for p in known)
    return UsageMetadata(input_tokens=inputs, output_tokens=outputs, total_tokens=inputs + outputs)


def _call_summary(trace: CallTrace) -> dict[str, Any]:
    """One Ollama call of a step, as ``response_metadata["calls"]`` lists it."""
    return {
        "request_id": trace.request_id,
        "model": trace.model or trace.requested_model,
        "input_tokens": trace.prompt_tokens,
        "output_tokens": trace.output_tokens,
        "latency_s": trace.latency_s,
        "status": trace.status,
    }


def current_role(catalog: Catalog, request: QueryRequest) -> str | None:
    """The role the conversation is on, from its newest AI message, if any.

    Each answer records its conversation's role (``response_metadata["conversation_role"]``)
    beside the model that wrote it: a tool step by a tool model or an answer by a fallback
    does not move the conversation. An AI message from elsewhere falls back to the role
    of the model that wrote it.
    """
    for message in reversed(request.prompt):
        if isinstance(message, AIMessage):
            role = message.response_metadata.get("conversation_role")
            if isinstance(role, str) and role in catalog.models:
                return role
            name = message.response_metadata.get("model_name")
            return catalog.find_role(name) if isinstance(name, str) else None
    return None


def _before_conversation(
    stored: list[BaseMessage], prompt: tuple[BaseMessage, ...]
) -> list[BaseMessage]:
    """The stored turns that came before a conversation the caller sends whole.

    An agent loop sends its conversation (question, tool calls, tool results) on every
    step, and each step stored its new messages: the stored copy of the conversation's
    first message marks where it begins, and only what precedes it is added. A
    conversation that is not in the store (a checkpointer's own) gets nothing added.
    """
    first = next((m for m in prompt if not isinstance(m, SystemMessage)), None)
    if first is None:
        return []
    for index in range(len(stored) - 1, -1, -1):
        if first.id is not None:  # by identity: LangGraph and agents give messages ids
            if stored[index].id == first.id:
                return stored[:index]
        elif (  # a hand-made list without ids: by role and text
            stored[index].id is None
            and stored[index].type == first.type
            and stored[index].text == first.text
        ):
            return stored[:index]
    return []


def _without_final_fields(chunk: AIMessageChunk) -> AIMessageChunk:
    """The chunk without Ollama's final fields (the core's last chunk carries them once)."""
    if not chunk.response_metadata and chunk.usage_metadata is None:
        return chunk
    return chunk.model_copy(update={"response_metadata": {}, "usage_metadata": None})


class QueryCore:
    """Runs checked requests through route, memory, call, report, history and usage.

    Args:
        settings: the manager's settings.
        catalog: the configured models.
        hosts: the host pool (the second opinion's host is placed by it).
        profiles: each model's profile on each host.
        calls: fallback x retry x admission around one Ollama call.
        storage: the conversation store and the usage recorder (opened on first use).
    """

    def __init__(
        self,
        settings: ZeroLLMSettings,
        catalog: Catalog,
        hosts: HostPool,
        profiles: ModelProfiles,
        calls: CallRunner,
        storage: Storage,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.hosts = hosts
        self.profiles = profiles
        self.calls = calls
        self.storage = storage
        self.telemetry = TelemetrySwitch(settings, catalog, hosts)

    # ---------------------------------------------------------------- route
    async def decide(self, request: QueryRequest) -> tuple[ModelSpec, RouteDecision | None]:
        """The model that answers ``request``, and the routing decision when one was made."""
        if request.model is not None:  # a catalog name, or any model the server has
            return await resolve_on_server(self.catalog, self.hosts.primary, request.model), None
        current = None
        if request.task is None:
            current = current_role(self.catalog, request)
            if current is not None and not isinstance(request.prompt[-1], HumanMessage):
                # a step inside a tool loop: the conversation keeps its role
                spec = self.catalog.models[current]
                return spec, RouteDecision(
                    task=current,
                    role=current,
                    model=spec.name,
                    reason=f"a step of a conversation on the {current} model keeps it",
                    method="conversation",
                    sticky=True,
                )
            if current is None and request.session_id is not None and not request.carries_history:
                last = await self.storage.history.last_model(request.session_id)
                current = self.catalog.find_role(last) if last else None
        routing = self.settings.routing
        decision = route(
            self.catalog,
            task=request.task,
            text=request.text,
            current_role=current,
            threshold=routing.confidence_threshold,
            switch_threshold=routing.switch_threshold,
        )
        if routing.llm_second_stage and decision.method == "low-confidence-default":
            decision = await self._second_opinion(request, decision)
        return self.catalog.models[decision.role], decision

    async def _second_opinion(
        self, request: QueryRequest, decision: RouteDecision
    ) -> RouteDecision:
        """Ask the default model which task a doubtful fresh request is; the decision it makes."""
        quick = self.catalog.models[self.catalog.default_role].name
        host = await self.hosts.place(quick, request.session_id)
        opinion = await ask_quick_model(
            host.backend.answer,
            request.text,
            model=quick,
            budget_s=self.settings.routing.second_stage_budget_s,
        )
        role = self.catalog.role_for_task(opinion.task) if opinion.task else None
        if role is None:
            why = opinion.error or "no usable answer"
            return replace(decision, reason=f"{decision.reason}; second opinion: {why}")
        return replace(
            decision,
            task=opinion.task or decision.task,
            role=role,
            model=self.catalog.models[role].name,
            method="second-stage",
            reason=f"{decision.reason}; {quick} judged it {opinion.task} "
            f"in {opinion.seconds:.2f} s",
            signals=(*decision.signals, "second-stage"),
        )

    async def _lacks_tools(self, spec: ModelSpec) -> bool:
        """Whether ``spec`` is known to lack the tools capability (asks /api/show once)."""
        profile = self.profiles.known(spec.name)
        if profile is None:
            try:
                profile = await self.profiles.resolve(spec)
            except ZeroLLMError:
                return False  # unknown for now: the call's attempts will find out
        return not profile.supports("tools")

    # --------------------------------------------------------------- answer
    def chunks(
        self,
        request: QueryRequest,
        *,
        stream: bool,
        route: RouteDecision | None = None,
        observer: AsyncCallbackManager | None = None,
    ) -> tuple[AsyncIterator[AIMessageChunk], CallTrace]:
        """The answer's chunks for a checked request, with the trace they fill in.

        The last chunk is empty and carries the whole ``response_metadata`` and usage.
        ``route`` is a decision made already (the LCEL router's); ``observer`` gets the
        usage record as the LangChain custom event ``zero_llm.usage``.
        """
        trace = CallTrace(requested_model="", session_id=request.session_id, streamed=stream)
        served = self._run_request(request, trace, stream, route, observer)
        if (telemetry := self.telemetry.active()) is not None:  # a span in the caller's context
            served = telemetry.observe(served, trace, request, route)
        return served, trace

    async def _run_request(
        self,
        request: QueryRequest,
        trace: CallTrace,
        stream: bool,
        decided: RouteDecision | None,
        observer: AsyncCallbackManager | None,
    ) -> AsyncIterator[AIMessageChunk]:
        answer: list[AIMessageChunk] = []
        thinking: list[str] = []
        side_calls: list[CallTrace] = []  # a tool model's call before the answer
        summarized = 0  # the caller's messages a summary stands for
        try:
            decision: RouteDecision | None
            if decided is not None:
                spec, decision = self.catalog.models[decided.role], decided
            else:
                spec, decision = await self.decide(request)
            trace.requested_model = spec.name
            trace.route = decision
            trace.conversation_role = (
                decision.role if decision is not None else self.catalog.find_role(spec.name)
            )
            prompt = await self._with_memory(spec, request, trace)
            if self.settings.window.summarize_dropped:
                shortened = await self._summarize_dropped(spec, prompt, request)
                prompt, summarized = shortened.messages, shortened.summarized
            async for chunk in self._model_chunks(spec, request, prompt, trace, stream, side_calls):
                if reasoning := chunk.additional_kwargs.get("reasoning_content"):
                    thinking.append(reasoning)
                chunk = _without_final_fields(chunk)
                answer.append(chunk)
                yield chunk
        except BaseException as exc:
            trace.thinking = "".join(thinking)
            trace.finish(exc)  # a caller who stopped reading: cancelled, not failed
            for done in (*side_calls, trace):
                await self._record_usage(done, request, observer)
            raise
        trace.thinking = "".join(thinking)
        trace.dropped_messages += summarized
        trace.finish()
        for side in side_calls:
            await self._record_usage(side, request, observer)
        record = await self._usage_record(trace, request)
        written = False
        if request.session_id is not None:  # the turn and its usage record: one transaction
            whole = add_ai_message_chunks(*answer) if answer else None
            with_usage = record if self.settings.usage_ledger else None
            written = await self._remember(request, whole, trace, with_usage) and bool(with_usage)
        await self._record_usage(trace, request, observer, record=record, written=written)
        meta = response_metadata(trace)
        meta["calls"] = [_call_summary(t) for t in (*side_calls, trace)]
        yield AIMessageChunk(
            content="",
            response_metadata=meta,
            usage_metadata=summed_usage([*side_calls, trace]),
            chunk_position="last",
        )

    async def _model_chunks(
        self,
        spec: ModelSpec,
        request: QueryRequest,
        prompt: list[BaseMessage],
        trace: CallTrace,
        stream: bool,
        side_calls: list[CallTrace],
    ) -> AsyncIterator[AIMessageChunk]:
        """The call's chunks, tools called the way the model and the request allow.

        * no tools (or ``tool_choice="none"``): one plain call;
        * a tools-capable model, nothing forced, no response schema: Ollama's own tools;
        * otherwise (a model without ``tools``, a forced ``tool_choice``, tools with a
          response schema, or a pinned model): by the role's ``tool_policy``;
          ``structured`` (the default, and always for a pinned model) lets the model call
          the tools itself through Ollama's ``format`` (``zero_llm.tool_schema``).

        With ``gather_then_answer``, a tool model's call that made no tool call is a call
        of its own: its trace goes to ``side_calls`` (its own usage record).
        """
        run = self.calls.run
        options: dict[str, Any] = {
            "format": request.format,
            "stop": request.stop,
            "sampling": request.sampling,
        }
        tools = request.tools if request.tool_choice != "none" else ()
        if not tools:
            async for chunk in run(spec, prompt, trace, stream=stream, **options):
                yield chunk
            return
        forced = forced_tool(request.tool_choice, tools)
        lacks = await self._lacks_tools(spec)
        if not lacks and not forced and request.format is None:
            trace.tool_calling = "native"
            async for chunk in run(spec, prompt, trace, stream=stream, tools=tools, **options):
                yield chunk
            return
        policy = spec.tool_policy
        if request.model is not None or not lacks or spec.tool_model is None:
            policy = "structured"  # a pinned model answers every step itself
        if policy == "structured":
            trace.tool_calling = "structured"
            async for chunk in self._structured(spec, request, prompt, trace, stream, forced):
                yield chunk
            return
        tool_spec = self.catalog.resolve(spec.tool_model)  # type: ignore[arg-type]
        trace.tool_model = tool_spec.name
        trace.tool_calling = policy
        if policy == "tool_model":
            async for chunk in run(tool_spec, prompt, trace, stream=stream, tools=tools, **options):
                yield chunk
            return
        # gather_then_answer: the tool model calls the tools; once it calls none, the
        # role's own model writes the answer from everything gathered.
        gathered: list[AIMessageChunk] = []
        async for chunk in run(
            tool_spec, prompt, trace, stream=False, tools=tools, sampling=request.sampling
        ):
            gathered.append(chunk)
        if any(chunk.tool_call_chunks for chunk in gathered):
            for chunk in gathered:
                yield chunk
            return
        tool_model_call = replace(trace, request_id=uuid.uuid4().hex, tool_model=None)
        tool_model_call.finish()
        side_calls.append(tool_model_call)
        trace.fallbacks.clear()
        async for chunk in run(spec, plain_transcript(prompt), trace, stream=stream, **options):
            yield chunk

    async def _structured(
        self,
        spec: ModelSpec,
        request: QueryRequest,
        prompt: list[BaseMessage],
        trace: CallTrace,
        stream: bool,
        forced: str | bool,
    ) -> AsyncIterator[AIMessageChunk]:
        """One call whose answer Ollama's ``format`` constrains to tool calls or an answer.

        Thinking streams as it comes; the answer is read whole (it is JSON) and given back
        as a native model would: tool calls, or the answer's text (a response schema's
        JSON when the request has one).
        """
        tools = request.tools
        answer_schema = request.format if isinstance(request.format, dict) else None
        schema = tool_call_schema(tools, forced, answer_schema)
        head = 0
        while head < len(prompt) and isinstance(prompt[head], SystemMessage):
            head += 1
        messages = [
            *prompt[:head],
            SystemMessage(tool_instructions(tools, forced)),
            *plain_transcript(prompt[head:]),
        ]
        content: list[str] = []
        last: AIMessageChunk | None = None
        async for chunk in self.calls.run(
            spec,
            messages,
            trace,
            stream=stream,
            format=schema,
            stop=request.stop,
            sampling=request.sampling,
        ):
            reasoning = chunk.additional_kwargs.get("reasoning_content")
            if reasoning:
                yield AIMessageChunk(content="", additional_kwargs={"reasoning_content": reasoning})
            content.append(chunk.text)
            last = chunk
        reply = parse_tool_reply("".join(content), tools, answer_schema is not None)
        if not reply.well_formed:
            log.warning(
                "%s answered a structured tool step with something other than the JSON asked "
                "for (request %s); it is passed on as text",
                trace.model or spec.name,
                trace.request_id,
            )
        metadata = last.response_metadata if last is not None else {}
        if reply.tool_calls:
            yield AIMessageChunk(
                content="",
                tool_call_chunks=[
                    tool_call_chunk(
                        name=call["name"],
                        args=json.dumps(call["args"], ensure_ascii=False),
                        id=call["id"],
                        index=index,
                    )
                    for index, call in enumerate(reply.tool_calls)
                ],
                response_metadata=metadata,
            )
        else:
            yield AIMessageChunk(content=reply.answer, response_metadata=metadata)

    # --------------------------------------------------------------- memory
    async def _summarize_dropped(
        self, spec: ModelSpec, prompt: list[BaseMessage], request: QueryRequest
    ) -> SummarizedPrompt:
        """The prompt with what the window would drop summarised by the default model.

        A step before the call (``zero_llm.calls.summary``): when a profile cannot be
        had now, the prompt goes as it is and the call's own attempts meet the failure.
        """
        tools: Sequence[dict[str, Any]] = request.tools if request.tool_choice != "none" else ()
        summarizer = self.catalog.models[self.catalog.default_role]
        try:
            profile = await self.profiles.resolve(spec)
            summarizer_profile = await self.profiles.resolve(summarizer)
        except ZeroLLMError:
            return SummarizedPrompt(prompt)

        async def ask_summarizer(messages: list[BaseMessage]) -> str:
            return await self.calls.complete(summarizer, messages)

        return await summarize_dropped(
            prompt, tools, profile, summarizer_profile, ask_summarizer, self.settings.window
        )

    async def _with_memory(
        self, spec: ModelSpec, request: QueryRequest, trace: CallTrace
    ) -> list[BaseMessage]:
        """The prompt, with the stored turns of the session that can fit in front.

        No I/O to Ollama here (that belongs inside the retry loop): the model's profile
        is used when known already, else the configured window bounds what is loaded.
        The call then trims exactly, with the answering model's own counter.
        """
        if request.session_id is None or not request.load_history:
            return request.messages()
        profile = self.profiles.known(spec.name)
        if profile is not None:
            room = profile.budget.prompt_tokens - profile.counter.count_prompt(
                request.messages(), request.tools
            )
        else:
            room = self.profiles.window_for(spec, None)
        if room <= 0:
            return request.messages()
        stored = await self.storage.history.window(
            request.session_id, room + room // HISTORY_LOAD_SLACK
        )
        earlier = [m.to_message() for m in stored]
        if request.carries_history:
            earlier = _before_conversation(earlier, request.prompt)
        return request.with_history(earlier).messages()

    async def _remember(
        self,
        request: QueryRequest,
        answer: AIMessageChunk | None,
        trace: CallTrace,
        usage: UsageRecord | None,
    ) -> bool:
        """Store the call's new messages, the answer and ``usage`` in one transaction.

        A failure is logged and noted in the trace, not raised: the answer stands (False).
        """
        assert request.session_id is not None
        reply = AIMessage(
            content=answer.content if answer is not None else "",
            tool_calls=answer.tool_calls if answer is not None else [],
            response_metadata={"model_name": trace.model, "request_id": trace.request_id},
        )
        new = request.new_messages()
        profile = self.profiles.known(trace.model or trace.requested_model, trace.host)
        counts = [0] * (len(new) + 1)
        if profile is not None:
            size = sum(len(m.text) for m in (*new, reply))
            messages = [*new, reply]
            counts = await self._count_in_time(
                lambda c: c.count_messages(messages),
                profile.counter,
                size,
                request,
                trace,
                in_thread=lambda c: [c.count_message(m) for m in messages],
            )
        task = trace.route.task if trace.route else None
        rows = [NewMessage(m, c, task=task) for m, c in zip(new, counts, strict=False)]
        rows.append(
            NewMessage(
                reply, counts[-1], model=trace.model, task=task, reasoning=trace.thinking or None
            )
        )
        try:
            seqs = await self.storage.history.append(request.session_id, rows, usage=usage)
            if seqs[:1] == [1] and (title := session_title(request.text)):  # a new session
                await self.storage.history.update_session(request.session_id, title=title)
        except ZeroLLMError as exc:
            trace.history_error = str(exc)
            log.error("could not store the turn of session %r: %s", request.session_id, exc)
            return False
        return True

    # ---------------------------------------------------------------- usage
    async def _count_in_time(
        self,
        count: Callable[[TokenCounter], T],
        counter: TokenCounter,
        size: int,
        request: QueryRequest,
        trace: CallTrace,
        in_thread: Callable[[TokenCounter], T] | None = None,
    ) -> T:
        """A count after the answer, within the call's deadline and off the event loop.

        A short text is counted at once. A long one (up to ``max_answer_chars``) is
        counted in a worker thread, so other calls on the loop go on meanwhile; if what
        is left of the call's total deadline runs out first, an estimate stands in.
        ``in_thread`` is the count to run there when ``count`` is not safe beside counts
        on the loop (a bulk count reads the shared cache after checking it).
        """
        if size < OFF_LOOP_CHARS:
            return count(counter)
        count = in_thread or count
        sampling = request.sampling
        total = (sampling.timeout if sampling else None) or self.settings.timeouts.total
        left = max(total - (time.perf_counter() - trace.started), 0.0)
        try:
            async with asyncio.timeout(left):
                return await asyncio.to_thread(count, counter)
        except TimeoutError:
            log.warning(
                "counting %d characters of request %s passed its deadline: estimated",
                size,
                trace.request_id,
            )
            return await asyncio.to_thread(count, EstimatingCounter(counter.overhead))

    async def _usage_record(self, trace: CallTrace, request: QueryRequest) -> UsageRecord:
        """The usage record of a finished call."""
        profile = self.profiles.known(trace.model or trace.requested_model, trace.host)
        thinking = None
        if trace.thinking:
            if profile is not None:
                thinking = await self._count_in_time(
                    lambda c: c.count_text(trace.thinking),
                    profile.counter,
                    len(trace.thinking),
                    request,
                    trace,
                )
        elif (role := self.catalog.find_role(trace.requested_model)) is not None:
            thinking = 0 if self.catalog.models[role].think else None
        return UsageRecord.from_trace(trace, thinking, log_content=self.settings.log_content)

    async def _record_usage(
        self,
        trace: CallTrace,
        request: QueryRequest,
        observer: AsyncCallbackManager | None,
        *,
        record: UsageRecord | None = None,
        written: bool = False,
    ) -> None:
        """Log the call in one line; hand its record to the ledger and the observer.

        ``record``: the call's record when made already; ``written``: it was stored with
        the turn (not written again).
        """
        record = record or await self._usage_record(trace, request)
        if log.isEnabledFor(logging.INFO):
            text = ""
            if self.settings.log_content:
                text = f" question={request.text!r} thinking={trace.thinking!r}"
            log.info("zero_llm call %s%s", record.log_fields(), text)
        if self.settings.usage_ledger and not written:
            self.storage.recorder.submit(record)
        if (telemetry := self.telemetry.active()) is not None:
            telemetry.recorded(trace, record)
        if observer is not None:
            try:
                await observer.on_custom_event(USAGE_EVENT, record, run_id=observer.parent_run_id)
            except Exception as exc:  # a callback must never fail the answer
                log.error("a callback failed on the usage event of %s: %s", trace.request_id, exc)
