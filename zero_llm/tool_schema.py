"""Tool calling through structured output, for models without Ollama's ``tools`` capability.

Ollama's ``format`` constrains any model's answer to a JSON schema (a grammar), tools
capability or not. This module builds the schema "either calls to these tools or a final
answer", the instructions that tell the model what its tools are, and turns the answer
back into what a native tool-calling model would have returned. So deepseek-r1 decides
and calls tools itself, in one call per step, thinking apart (on ``/api/chat`` a
thinking model thinks freely and only its content is constrained: ollama/ollama #12460,
one pass since #18478; older servers constrained the thinking too, #11545).

In: OpenAI-style tool schemas (what ``bind_tools`` makes) and the caller's
``tool_choice``. Out: the ``format`` schema, a system message, and ``ToolReply``. Pure.

The schema (``anyOf`` of two shapes):

* ``{"tool_calls": [{"name": <one of the tools' names>, "arguments": <that tool's own
  parameters schema>}, ...]}`` with at least one call;
* ``{"answer": "<the final answer>"}``.

``tool_choice`` ``"any"``/``"required"`` or a tool's name leaves only the first shape
(that tool only, for a name); ``"none"`` means no tools at all (the caller sends none).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zero_llm.errors import InvalidRequestError

__all__ = [
    "ToolReply",
    "forced_tool",
    "parse_tool_reply",
    "tool_call_schema",
    "tool_instructions",
]

FORCING_CHOICES = frozenset({"any", "required"})


def _function(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    function = tool.get("function")
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise InvalidRequestError(f"a tool needs a function with a name, got {tool!r}")
    return function


def _parameters(function: Mapping[str, Any]) -> dict[str, Any]:
    parameters = function.get("parameters")
    if parameters is None:
        return {"type": "object", "properties": {}}
    if not isinstance(parameters, Mapping):
        raise InvalidRequestError(
            f"tool {function['name']!r}: parameters must be a JSON schema object, "
            f"got {parameters!r}"
        )
    return dict(parameters)


def forced_tool(tool_choice: Any, tools: Sequence[Mapping[str, Any]]) -> str | bool:
    """What ``tool_choice`` forces: a tool's name, True for any tool, False for nothing."""
    if tool_choice in (None, "auto", "none", False):
        return False
    if tool_choice in FORCING_CHOICES or tool_choice is True:
        return True
    name = tool_choice
    if isinstance(tool_choice, Mapping):  # {"type": "function", "function": {"name": ...}}
        name = (tool_choice.get("function") or {}).get("name") or tool_choice.get("name")
    names = [_function(t)["name"] for t in tools]
    if not isinstance(name, str) or name not in names:
        raise InvalidRequestError(
            f"tool_choice {tool_choice!r} names no bound tool (bound: {', '.join(names)})"
        )
    return name


def tool_call_schema(
    tools: Sequence[Mapping[str, Any]],
    forced: str | bool = False,
    answer_schema: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``format`` schema: calls to ``tools`` or a final answer (only calls when forced).

    ``answer_schema`` shapes the final answer (a response format's JSON schema); without
    one the answer is a string.
    """
    calls = []
    for tool in tools:
        function = _function(tool)
        if isinstance(forced, str) and function["name"] != forced:
            continue
        calls.append(
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "enum": [function["name"]]},
                    "arguments": _parameters(function),
                },
                "required": ["name", "arguments"],
            }
        )
    call_shape = {
        "type": "object",
        "properties": {
            "tool_calls": {
                "type": "array",
                "items": calls[0] if len(calls) == 1 else {"anyOf": calls},
                "minItems": 1,
            }
        },
        "required": ["tool_calls"],
    }
    if forced:
        return call_shape
    answer_shape = {
        "type": "object",
        "properties": {"answer": dict(answer_schema) if answer_schema else {"type": "string"}},
        "required": ["answer"],
    }
    return {"anyOf": [call_shape, answer_shape]}


def tool_instructions(tools: Sequence[Mapping[str, Any]], forced: str | bool = False) -> str:
    """The system text that tells the model its tools and how to call them in JSON."""
    lines = [
        "You can call tools. Answer with one JSON object:",
        '- to call tools: {"tool_calls": [{"name": <tool name>, "arguments": {...}}]};',
    ]
    if not forced:
        lines.append('- to give your final answer: {"answer": "<your answer>"}.')
    elif isinstance(forced, str):
        lines.append(f"You must call the tool {forced} now.")
    else:
        lines.append("You must call at least one tool now.")
    lines.append(
        "Tool results come back as messages that quote them. Call a tool only when you "
        "need what it returns. The tools:"
    )
    for tool in tools:
        function = _function(tool)
        description = function.get("description") or ""
        parameters = json.dumps(_parameters(function), ensure_ascii=False, sort_keys=True)
        lines.append(f"- {function['name']}: {description} Arguments (JSON schema): {parameters}")
    return "\n".join(lines)


@dataclass(frozen=True)
class ToolReply:
    """A structured answer read back: tool calls, or the final answer's text."""

    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    answer: str = ""
    well_formed: bool = True


def parse_tool_reply(
    content: str, tools: Sequence[Mapping[str, Any]], structured_answer: bool = False
) -> ToolReply:
    """Read the model's JSON: LangChain tool calls (with fresh ids) or the answer text.

    With ``structured_answer`` the answer is a response schema's value, given back as its
    JSON text.

    An answer that is not the JSON asked for (a server that ignored ``format``) is kept
    whole as the answer, marked not well formed; calls to unknown tools are dropped.
    """
    try:
        value = json.loads(content)
    except ValueError:
        return ToolReply(answer=content, well_formed=False)
    if not isinstance(value, dict):
        return ToolReply(answer=content, well_formed=False)
    names = {_function(t)["name"] for t in tools}
    calls = []
    for call in value.get("tool_calls") or []:
        if not isinstance(call, dict) or call.get("name") not in names:
            continue
        arguments = call.get("arguments")
        calls.append(
            {
                "name": call["name"],
                "args": arguments if isinstance(arguments, dict) else {},
                "id": f"call_{uuid.uuid4().hex[:24]}",
                "type": "tool_call",
            }
        )
    if calls:
        return ToolReply(tool_calls=calls)
    answer = value.get("answer")
    if structured_answer and "answer" in value:
        return ToolReply(answer=json.dumps(answer, ensure_ascii=False))
    if isinstance(answer, str):
        return ToolReply(answer=answer)
    return ToolReply(answer=content, well_formed=False)
