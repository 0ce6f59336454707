"""The emulator's deterministic tool-call rule, and the checks on ``tools`` and tool history.

In: the ``tools`` of an ``/api/chat`` request (function schemas as ollama-python and ChatOllama
send them) and its messages. Out: the ``message.tool_calls`` list real Ollama would send, or
the text answering a tool result. Pure functions; the server drives them.

The rule (also in docs/emulator.md), for a model with the ``tools`` capability:

1. When the last message is the user's: a tool is called when its exact function name
   appears in the text (as a whole word); failing that, when a distinctive word of
   its name appears (the name split at ``_`` and at camelCase humps, lower-cased, without a
   leading generic verb such as get, fetch, call, run, make, and without filler words such as
   tool, function, my, no, args: ``get_weather`` is called for "what is the weather in
   Paris?"); failing that, when the text asks to use "the tool" and exactly one tool is given.
   One call per tool so chosen, in the order they first appear in the text.
2. When the last messages are tool results (a further round, so agents run several): a bound
   tool whose exact name appears as a whole word in those results and that no assistant
   message of the conversation has called yet is called, one call per such tool in the order
   they first appear; its arguments are filled from the results' text, then from the last user
   message. A tool is never called twice in one conversation by this rule, so loops end.
3. ``arguments`` is a JSON object. Each required parameter is filled from a ``param=value``
   pair in the text when present; else, when the text writes the call as ``name(v1, v2)``,
   from those values in the order of the parameters; else a parameter with an ``enum`` takes
   the first enum value the text names (a whole word, any case), else the enum's first value;
   else a string parameter takes the first quoted phrase of the text ('...' or "...", Unicode
   kept exactly); else a valid value of its JSON schema
   (``schema_values.instance_of_schema``: types, enums, required fields, nested objects and
   arrays). Optional parameters are left out.
4. When the last message is a ``tool`` message and rule 2 calls nothing, the answer is text
   quoting the content of the trailing tool messages verbatim:
   ``[model] get_weather returned: It's sunny.``
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from zero_llm.testing.schema_values import (
    GENERIC_VERBS,
    arguments_for,
    distinctive_words,
    first_position,
)

__all__ = [
    "GENERIC_VERBS",
    "ToolProblem",
    "answer_tool_results",
    "choose_tool_calls",
    "distinctive_words",
    "validate_tool_history",
    "validate_tools",
]


_THE_TOOL = re.compile(r"\bthe tool\b", re.IGNORECASE)


class ToolProblem(ValueError):
    """A ``tools`` list or tool history Ollama would refuse (answered with 400)."""


def validate_tools(tools: Any) -> list[dict[str, Any]]:
    """Check ``tools`` as Ollama decodes it; return the list (empty when absent)."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise ToolProblem("json: cannot unmarshal tools into Go struct field of type api.Tools")
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ToolProblem("each tool must be an object with a function that has a name")
        parameters = function.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise ToolProblem(f"tool {function['name']!r}: parameters must be an object")
    return tools


def validate_tool_history(messages: Sequence[dict[str, Any]]) -> None:
    """Check the ``tool_calls`` of assistant messages and the ``tool_name`` of tool messages."""
    for m in messages:
        calls = m.get("tool_calls")
        if calls is not None:
            if not isinstance(calls, list):
                raise ToolProblem("message tool_calls must be a list")
            for call in calls:
                function = call.get("function") if isinstance(call, dict) else None
                if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                    raise ToolProblem("each tool call must have a function with a name")
                if not isinstance(function.get("arguments", {}), dict):
                    raise ToolProblem(
                        "json: cannot unmarshal string into Go struct field "
                        "ToolCallFunction.messages.tool_calls.function.arguments of type map"
                    )
        name = m.get("tool_name")
        if name is not None and not isinstance(name, str):
            raise ToolProblem("message tool_name must be a string")


def choose_tool_calls(
    tools: Sequence[dict[str, Any]], messages: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The ``tool_calls`` the rule makes for the last user message (empty: answer in text)."""
    if not tools or not messages:
        return []
    if messages[-1].get("role") == "tool":
        return _further_calls(tools, messages)
    if messages[-1].get("role") != "user":
        return []
    text = str(messages[-1].get("content") or "")
    chosen: list[tuple[int, int, dict[str, Any]]] = []
    for i, tool in enumerate(tools):
        position = first_position(re.escape(_name(tool)), text)
        if position is None:
            words = [first_position(re.escape(w), text) for w in distinctive_words(_name(tool))]
            position = min((p for p in words if p is not None), default=None)
        if position is not None:
            chosen.append((position, i, tool))
    if not chosen and len(tools) == 1 and _THE_TOOL.search(text):
        chosen = [(0, 0, tools[0])]
    chosen.sort(key=lambda item: (item[0], item[1]))
    return [_call(tool, text, index) for index, (_, _, tool) in enumerate(chosen)]


def _further_calls(
    tools: Sequence[dict[str, Any]], messages: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Rule 2: calls of not-yet-called tools that the trailing tool results name."""
    trailing = _trailing_tool_messages(messages)
    results = "\n".join(str(m.get("content") or "") for m in trailing)
    called = {
        str(call.get("function", {}).get("name"))
        for m in messages
        if m.get("role") == "assistant"
        for call in m.get("tool_calls") or []
        if isinstance(call, dict)
    }
    chosen: list[tuple[int, int, dict[str, Any]]] = []
    for i, tool in enumerate(tools):
        if _name(tool) in called:
            continue
        position = first_position(re.escape(_name(tool)), results)
        if position is not None:
            chosen.append((position, i, tool))
    chosen.sort(key=lambda item: (item[0], item[1]))
    task = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    text = results + "\n" + str(task.get("content") or "") if task else results
    return [_call(tool, text, index) for index, (_, _, tool) in enumerate(chosen)]


def _trailing_tool_messages(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    trailing: list[dict[str, Any]] = []
    for m in reversed(messages):
        if m.get("role") != "tool":
            break
        trailing.insert(0, m)
    return trailing


def _name(tool: dict[str, Any]) -> str:
    return str(tool["function"]["name"])


def _call(tool: dict[str, Any], text: str, index: int) -> dict[str, Any]:
    name = _name(tool)
    arguments = arguments_for(name, tool["function"].get("parameters") or {}, text)
    digest = hashlib.sha256(f"{index}:{name}:{text}".encode()).hexdigest()[:8]
    return {
        "id": f"call_{digest}",
        "function": {"index": index, "name": name, "arguments": arguments},
    }


def answer_tool_results(model: str, messages: Sequence[dict[str, Any]]) -> str | None:
    """The text answering the trailing ``tool`` messages, quoting them verbatim; else None."""
    trailing = _trailing_tool_messages(messages)
    if not trailing:
        return None
    names = _called_names(messages[: len(messages) - len(trailing)])
    parts = []
    for i, m in enumerate(trailing):
        name = m.get("tool_name") or (names[i] if i < len(names) else "the tool")
        parts.append(f"{name} returned: {m.get('content') or ''}")
    return f"[{model}] " + "\n".join(parts)


def _called_names(messages: Sequence[dict[str, Any]]) -> list[str]:
    for m in reversed(messages):
        if m.get("role") == "assistant" and m.get("tool_calls"):
            return [str(c["function"]["name"]) for c in m["tool_calls"]]
    return []
