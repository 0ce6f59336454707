"""A call's telemetry attributes, events and content, from its trace and request (pure).

In: the ``CallTrace`` of a call (finished, for everything but the creation attributes), its
``QueryRequest``, its ``UsageRecord`` and the catalog spec of the requested model. Out:
plain dicts of span and metric attributes by the GenAI semantic conventions v1.41.0 and
zero-llm's own ``zero_llm.*``; the retry and fallback span events; and, only when asked
(``log_content``), the prompt and answer as ``gen_ai.input.messages`` /
``gen_ai.output.messages`` JSON. No OpenTelemetry import: everything here is data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from zero_llm.answer import CallTrace, FallbackStep, RetryStep
from zero_llm.catalog import ModelSpec
from zero_llm.requests import QueryRequest
from zero_llm.telemetry import names as n
from zero_llm.usage import UsageRecord

__all__ = [
    "Attributes",
    "call_attributes",
    "fallback_event",
    "input_messages",
    "metric_attributes",
    "output_messages",
    "request_attributes",
    "retry_event",
    "server_of",
    "start_attributes",
]

Attributes = dict[str, Any]
"""Attribute values as OpenTelemetry takes them: str, bool, int, float or sequences of one."""

MESSAGE_LIMIT = 300
"""Characters of an error message kept in an event (error messages name models and hosts)."""


def server_of(url: str | None) -> tuple[str, int] | None:
    """``server.address`` and ``server.port`` of an Ollama base URL (None when unknown)."""
    if not url:
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname, port


def _server(attributes: Attributes, url: str | None) -> None:
    server = server_of(url)
    if server is not None:
        attributes[n.SERVER_ADDRESS], attributes[n.SERVER_PORT] = server


def start_attributes(
    request: QueryRequest, *, stream: bool, model: str | None, host: str | None
) -> Attributes:
    """What is known when the span starts (the attributes samplers see).

    ``model``: the requested model when the request names one (a routed call's model is
    decided inside the span); ``host``: the one configured host, when there is only one.
    """
    attributes: Attributes = {
        n.OPERATION_NAME: n.OPERATION_CHAT,
        n.PROVIDER_NAME: n.PROVIDER_OLLAMA,
    }
    if model:
        attributes[n.REQUEST_MODEL] = model
    if stream:
        attributes[n.REQUEST_STREAM] = True
    if request.session_id is not None:
        attributes[n.CONVERSATION_ID] = request.session_id
    _server(attributes, host)
    return attributes


def request_attributes(request: QueryRequest | None, spec: ModelSpec | None) -> Attributes:
    """The request's parameters as sent: temperature, max tokens, stop sequences, output type."""
    attributes: Attributes = {}
    sampling = request.sampling if request is not None else None
    temperature = sampling.temperature if sampling and sampling.temperature is not None else None
    if temperature is None and spec is not None:
        temperature = spec.temperature
    if temperature is not None:
        attributes[n.REQUEST_TEMPERATURE] = float(temperature)
    max_tokens = sampling.max_tokens if sampling and sampling.max_tokens is not None else None
    if max_tokens is None and spec is not None:
        max_tokens = spec.num_predict
    if max_tokens is not None:
        attributes[n.REQUEST_MAX_TOKENS] = int(max_tokens)
    if request is not None and request.stop:
        attributes[n.REQUEST_STOP_SEQUENCES] = list(request.stop)
    if request is not None and request.format is not None:
        attributes[n.OUTPUT_TYPE] = "json"  # Ollama's format: "json" or a JSON schema
    return attributes


def metric_attributes(trace: CallTrace) -> Attributes:
    """The conventions' attribute set of the client metrics for one call."""
    attributes: Attributes = {
        n.OPERATION_NAME: n.OPERATION_CHAT,
        n.PROVIDER_NAME: n.PROVIDER_OLLAMA,
    }
    if trace.requested_model:
        attributes[n.REQUEST_MODEL] = trace.requested_model
    if trace.model:
        attributes[n.RESPONSE_MODEL] = trace.model
    _server(attributes, trace.host)
    if trace.error_type is not None:
        attributes[n.ERROR_TYPE] = trace.error_type
    return attributes


def call_attributes(
    trace: CallTrace,
    record: UsageRecord | None,
    *,
    log_content: bool = False,
) -> Attributes:
    """Every attribute of a finished call's span: the conventions' and ``zero_llm.*``."""
    attributes = metric_attributes(trace)
    if trace.session_id is not None:
        attributes[n.CONVERSATION_ID] = trace.session_id
    if trace.streamed:
        attributes[n.REQUEST_STREAM] = True
        if trace.first_token_s is not None:
            attributes[n.TIME_TO_FIRST_CHUNK] = trace.first_token_s
    if trace.prompt_tokens is not None:
        attributes[n.USAGE_INPUT_TOKENS] = trace.prompt_tokens
    if trace.output_tokens is not None:
        attributes[n.USAGE_OUTPUT_TOKENS] = trace.output_tokens
    if record is not None and record.thinking_tokens:
        attributes[n.USAGE_REASONING_OUTPUT_TOKENS] = record.thinking_tokens
    if trace.done_reason is not None:
        attributes[n.FINISH_REASONS] = [trace.done_reason]
    attributes[n.ZL_REQUEST_ID] = trace.request_id
    attributes[n.ZL_STATUS] = trace.status
    attributes[n.ZL_ATTEMPTS] = trace.attempts
    attributes[n.ZL_RETRIES] = len(trace.retries)
    attributes[n.ZL_FALLBACKS] = len(trace.fallbacks)
    if trace.fallbacks:
        attributes[n.ZL_FALLBACK_MODELS] = [step.model for step in trace.fallbacks]
    route = trace.route
    if route is not None:
        attributes[n.ZL_ROUTE_TASK] = route.task
        attributes[n.ZL_ROUTE_ROLE] = route.role
        attributes[n.ZL_ROUTE_METHOD] = route.method
        attributes[n.ZL_ROUTE_CONFIDENCE] = float(route.confidence)
        attributes[n.ZL_ROUTE_STICKY] = route.sticky
        if route.signals:
            attributes[n.ZL_ROUTE_SIGNALS] = list(route.signals)
        if log_content:  # the reason may quote the prompt's words
            attributes[n.ZL_ROUTE_REASON] = route.reason
    if trace.tool_model is not None:
        attributes[n.ZL_TOOL_MODEL] = trace.tool_model
    if trace.tool_calling is not None:
        attributes[n.ZL_TOOL_CALLING] = trace.tool_calling
    if trace.conversation_role is not None:
        attributes[n.ZL_CONVERSATION_ROLE] = trace.conversation_role
    if trace.queue_wait_s is not None:
        attributes[n.ZL_QUEUE_WAIT] = trace.queue_wait_s
    cold = record.cold_load if record is not None else bool(trace.cold_load)
    if cold is not None:
        attributes[n.ZL_COLD_LOAD] = cold
    if trace.evicted:
        attributes[n.ZL_EVICTED] = list(trace.evicted)
    if trace.load_duration_s is not None:
        attributes[n.ZL_LOAD_DURATION] = trace.load_duration_s
    if trace.pulled:
        attributes[n.ZL_PULLED] = list(trace.pulled)
    if trace.num_ctx is not None:
        attributes[n.ZL_NUM_CTX] = trace.num_ctx
    if trace.prompt_tokens_counted is not None:
        attributes[n.ZL_PROMPT_TOKENS_COUNTED] = trace.prompt_tokens_counted
    attributes[n.ZL_DROPPED_MESSAGES] = trace.dropped_messages
    attributes[n.ZL_CUT_MESSAGE] = trace.cut_message
    attributes[n.ZL_DROPPED_ROUNDS] = trace.dropped_rounds
    attributes[n.ZL_CUT_MESSAGES] = trace.cut_messages
    if trace.truncation_suspected:
        attributes[n.ZL_TRUNCATION_SUSPECTED] = True
    return attributes


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def retry_event(step: RetryStep) -> tuple[str, Attributes, int]:
    """A failed attempt that was retried: the span event's name, attributes and time (ns)."""
    attributes: Attributes = {
        n.ZL_MODEL: step.model,
        n.ZL_ATTEMPT: step.attempt,
        n.ERROR_TYPE: step.error_type,
        n.ZL_ERROR_MESSAGE: _short(step.message),
        n.ZL_BACKOFF: step.backoff_s,
    }
    _server(attributes, step.host)  # the host it failed on
    return n.EVENT_RETRY, attributes, int(step.at * 1e9)


def fallback_event(step: FallbackStep) -> tuple[str, Attributes, int]:
    """A model given up on for the next in its chain: the span event's name, attributes, time."""
    attributes: Attributes = {
        n.ZL_MODEL: step.model,
        n.ERROR_TYPE: step.error_type,
        n.ZL_ERROR_MESSAGE: _short(step.message),
    }
    return n.EVENT_FALLBACK, attributes, int(step.at * 1e9)


# ------------------------------------------------------------------ content (opt-in)
_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}


def _arguments(value: Any) -> Any:
    """Tool-call arguments as an object when they are JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _message(message: BaseMessage) -> dict[str, Any]:
    """One LangChain message in the conventions' input-message shape (role and parts)."""
    parts: list[dict[str, Any]] = []
    if isinstance(message, ToolMessage):
        parts.append(
            {"type": "tool_call_response", "id": message.tool_call_id, "response": message.text}
        )
    elif message.text:
        parts.append({"type": "text", "content": message.text})
    if isinstance(message, AIMessage):
        parts.extend(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": call["name"],
                "arguments": _arguments(call.get("args")),
            }
            for call in message.tool_calls
        )
    return {"role": _ROLES.get(message.type, message.type), "parts": parts}


def input_messages(messages: Sequence[BaseMessage]) -> str:
    """``gen_ai.input.messages`` as JSON text (spans take no structured values yet)."""
    return json.dumps([_message(m) for m in messages], ensure_ascii=False, default=str)


def output_messages(
    text: str,
    tool_calls: Sequence[dict[str, Any]],
    thinking: str,
    done_reason: str | None,
) -> str:
    """``gen_ai.output.messages`` as JSON text: the answer, its tool calls and its thinking."""
    parts: list[dict[str, Any]] = []
    if thinking:
        parts.append({"type": "reasoning", "content": thinking})
    if text:
        parts.append({"type": "text", "content": text})
    parts.extend(
        {
            "type": "tool_call",
            "id": call.get("id"),
            "name": call.get("name"),
            "arguments": _arguments(call.get("args")),
        }
        for call in tool_calls
    )
    if tool_calls:
        finish = "tool_call"
    elif done_reason == "length":
        finish = "length"
    else:
        finish = "stop"
    message = {"role": "assistant", "parts": parts, "finish_reason": finish}
    return json.dumps([message], ensure_ascii=False, default=str)
