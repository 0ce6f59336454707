"""LangChain messages to Ollama's chat messages, and Ollama's answers back to chunks.

In: LangChain ``BaseMessage``s (system, human, AI with tool calls, tool results; text or
content blocks with base64 images). Out: Ollama ``/api/chat`` message dicts, and for each
part of Ollama's answer an ``AIMessageChunk`` (text, thinking in
``additional_kwargs["reasoning_content"]``, tool calls as ``tool_call_chunks``, Ollama's
counts and durations in ``response_metadata`` on the final part). Pure functions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import tool_call_chunk

from zero_llm.errors import InvalidRequestError

__all__ = [
    "FINAL_KEYS",
    "chunk_from_part",
    "message_text",
    "plain_transcript",
    "to_ollama_messages",
]

FINAL_KEYS = (
    "model",
    "created_at",
    "done",
    "done_reason",
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)
"""The fields of Ollama's final answer line kept in ``response_metadata``."""


def _image_data(block: Mapping[str, Any]) -> str:
    """The base64 payload of an image content block (data URLs and bare base64)."""
    kind = block.get("type")
    if kind == "image_url":
        url = block.get("image_url")
        if isinstance(url, Mapping):
            url = url.get("url")
        if not isinstance(url, str):
            raise InvalidRequestError("an image_url block needs a string url")
        if url.startswith(("http://", "https://")):
            raise InvalidRequestError(
                "Ollama takes images inline (base64 or a data: URL), not by web address"
            )
        return url.split(",", 1)[-1]
    data = block.get("base64")
    if data is None and block.get("source_type") == "base64":
        data = block.get("data")
    if not isinstance(data, str):
        raise InvalidRequestError("only inline base64 images can be sent to Ollama")
    return data


def _text_and_images(content: str | list[Any]) -> tuple[str, list[str]]:
    if isinstance(content, str):
        return content, []
    texts: list[str] = []
    images: list[str] = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
            continue
        kind = part.get("type")
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind in ("image", "image_url"):
            images.append(_image_data(part))
        elif kind in ("tool_use", "tool_call", "reasoning", "thinking"):
            continue
        else:
            raise InvalidRequestError(f"a content block of type {kind!r} cannot be sent to Ollama")
    return "\n".join(texts), images


def message_text(message: BaseMessage) -> str:
    """The text of a message (content blocks joined, images left out)."""
    return _text_and_images(message.content)[0]


def to_ollama_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Ollama's ``/api/chat`` messages for LangChain messages (thinking is never resent)."""
    tool_names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for message in messages:
        text, images = _text_and_images(message.content)
        entry: dict[str, Any] = {"content": text}
        if isinstance(message, HumanMessage):
            entry["role"] = "user"
        elif isinstance(message, AIMessage):
            entry["role"] = "assistant"
            if message.tool_calls:
                calls = []
                for call in message.tool_calls:
                    if call.get("id"):
                        tool_names[str(call["id"])] = call["name"]
                    calls.append({"function": {"name": call["name"], "arguments": call["args"]}})
                entry["tool_calls"] = calls
        elif isinstance(message, SystemMessage):
            entry["role"] = "system"
        elif isinstance(message, ToolMessage):
            entry["role"] = "tool"
            name = message.name or tool_names.get(message.tool_call_id)
            if name:
                entry["tool_name"] = name
        elif isinstance(message, ChatMessage):
            entry["role"] = message.role
        else:
            raise InvalidRequestError(
                f"a {type(message).__name__} cannot be sent to Ollama "
                "(system, human, AI, tool and chat messages can)"
            )
        if images:
            entry["images"] = images
        out.append(entry)
    return out


def plain_transcript(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """The conversation for a model without tools: calls and results written as text.

    AI tool calls become a line naming each call and its arguments; each tool result
    becomes a human message quoting it (``[tool result]``, after the call that asked for
    it), so a model whose template knows no tool role still reads everything gathered.
    """
    out: list[BaseMessage] = []
    for message in messages:
        if isinstance(message, AIMessage) and message.tool_calls:
            lines = [message_text(message)] if message_text(message) else []
            for call in message.tool_calls:
                args = json.dumps(call["args"], ensure_ascii=False, sort_keys=True)
                lines.append(f"[called tool {call['name']} with {args}]")
            out.append(AIMessage("\n".join(lines)))
        elif isinstance(message, ToolMessage):
            # the call line above names the tool; the result is quoted as it came
            out.append(HumanMessage(f"[tool result]\n{message_text(message)}"))
        else:
            out.append(message)
    return out


def _usage(part: Any) -> UsageMetadata | None:
    prompt, output = part.get("prompt_eval_count"), part.get("eval_count")
    if prompt is None or output is None:
        return None
    return UsageMetadata(
        input_tokens=int(prompt), output_tokens=int(output), total_tokens=int(prompt) + int(output)
    )


def chunk_from_part(part: Any, *, first_tool_index: int = 0) -> AIMessageChunk:
    """One ``AIMessageChunk`` for one part of Ollama's answer (a ``ChatResponse``, or a dict).

    Tool calls get fresh ids (Ollama sends none) and ``index`` values from
    ``first_tool_index`` on, so chunks of one answer add up without merging calls.
    """
    message = part.get("message") or {}
    kwargs: dict[str, Any] = {}
    if thinking := message.get("thinking"):
        kwargs["reasoning_content"] = thinking
    calls = [
        tool_call_chunk(
            name=call["function"]["name"],
            args=json.dumps(call["function"].get("arguments") or {}, ensure_ascii=False),
            id=f"call_{uuid.uuid4().hex}",
            index=first_tool_index + offset,
        )
        for offset, call in enumerate(message.get("tool_calls") or ())
    ]
    done = bool(part.get("done"))
    metadata: dict[str, Any] = {}
    if done:
        metadata = {key: part.get(key) for key in FINAL_KEYS if part.get(key) is not None}
        metadata["model_name"] = part.get("model")
    return AIMessageChunk(
        content=message.get("content") or "",
        additional_kwargs=kwargs,
        tool_call_chunks=calls,
        response_metadata=metadata,
        usage_metadata=_usage(part) if done else None,
    )
