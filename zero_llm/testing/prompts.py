"""How Ollama turns a chat request into the prompt a model reads; the three models' templates.

Everything here is the emulator's own reading of primary sources, none of it shared with the
zero_llm package (the emulator is the package's independent witness):

Templates, default system prompts and parameters of the models as the Ollama library serves them:

- ``LLAMA31_TEMPLATE``: ``library/llama3.1:8b``, verbatim from the registry templates recorded in
  huggingface/huggingface.js ``packages/ollama-utils/src/chat-template-automap.ts`` (commit
  007948d5; generated from the Ollama registry's template blobs). Parameters: ``stop``
  ``<|start_header_id|>``, ``<|end_header_id|>``, ``<|eot_id|>`` (same source). No default
  system prompt.
- ``QWEN25_CODER_TEMPLATE``: the same file's ``library/qwen2.5-coder:1.5b`` entry; the file holds no
  entry for the 32b tag, and the qwen2.5-coder tags share one template (the closest primary
  source). The same file records no parameters for it, so none are served. Default system
  prompt: ``You are Qwen, created by Alibaba Cloud. You are a helpful assistant.`` (its
  Modelfile's SYSTEM, which the Hugging Face chat template in the same entry also writes when
  the conversation has no system message).
- ``DEEPSEEK_R1_TEMPLATE``: the same file's ``library/deepseek-r1:latest`` entry, the
  thinking-aware template (``.Thinking``, ``$.IsThinkSet``, ``$.Think``) the library serves for the
  deepseek-r1 tags since Ollama's thinking support; no entry for the 32b tag exists there (the
  closest primary source). Parameters: ``stop`` for its begin-of-sentence, end-of-sentence, User
  and Assistant tokens, ``temperature`` 0.6, ``top_p`` 0.95. No default system prompt.

Ollama's rules (ollama/ollama at tag v0.12.6, unchanged since but for tools, and at 2026-08 main;
the emulator reports version 0.30.9; tools are served as templates see them since v0.14.0):

- ``server/routes.go`` ChatHandler: the model's default system prompt goes in front when the
  request's first message is not a system message; ``filterThinkTags`` (deepseek-r1 and qwen3
  models) removes a leading ``<think>...</think>`` from the content of every assistant message
  before the last user message.
- ``server/prompt.go`` chatPrompt: scanning back from the newest message, the longest suffix
  of messages that fits ``num_ctx`` is kept, with the system messages before it; the last
  message is always kept.
- ``template/template.go``: ``Parse`` appends ``{{ .Response }}`` to a template that mentions
  neither messages nor response; ``Execute`` collates the messages (consecutive messages of one
  role but tool are merged with a blank line; ``.System`` is all system messages joined by a
  blank line) and gives the template ``System``, ``Messages``, ``Tools``, ``Response`` (empty),
  ``Think``, ``ThinkLevel``, ``IsThinkSet``; a template without ``.Messages`` is run the legacy
  way, once per user/assistant turn with ``System``, ``Prompt``, ``Response``, the last run cut
  after ``{{ .Response }}``; a generate request with ``suffix`` renders ``Prompt`` and ``Suffix``
  alone (fill-in-the-middle, qwen2.5-coder's ``insert`` capability).
- ``api/types.go``: how a tool, a tool function and tool-call arguments print in a template:
  Go's ``json.Marshal`` of Ollama's structs (``Tool``: type, items, function; ``ToolFunction``:
  name, description, parameters; parameters: type, $defs, items, required, properties; a
  property: anyOf, type, items, description, enum; other keys are not kept; map keys sorted;
  ``<``, ``>``, ``&`` escaped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from zero_llm.testing.gotemplate import (
    GoTemplate,
    GoValue,
    Struct,
    append_field_action,
    go_json,
    nodes_through_field,
)

__all__ = [
    "DEEPSEEK_R1_TEMPLATE",
    "LLAMA31_TEMPLATE",
    "QWEN25_CODER_TEMPLATE",
    "QWEN_SYSTEM",
    "OllamaTemplate",
    "chat_messages",
    "parameters_text",
    "parse_template",
    "render_insert",
    "render_messages",
    "strip_thinking",
    "tool_json",
    "tool_value",
]

QWEN_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
"""qwen2.5-coder's default system prompt (its Modelfile's SYSTEM)."""

LLAMA31_TEMPLATE = (
    "{{- if or .System .Tools }}<|start_header_id|>system<|end_header_id|>\n"
    "{{- if .System }}\n"
    "\n"
    "{{ .System }}\n"
    "{{- end }}\n"
    "{{- if .Tools }}\n"
    "\n"
    "Cutting Knowledge Date: December 2023\n"
    "\n"
    "When you receive a tool call response, use the output to format an"
    " answer to the orginal user question.\n"
    "\n"
    "You are a helpful assistant with tool calling capabilities.\n"
    "{{- end }}<|eot_id|>\n"
    "{{- end }}\n"
    "{{- range $i, $_ := .Messages }}\n"
    "{{- $last := eq (len (slice $.Messages $i)) 1 }}\n"
    '{{- if eq .Role "user" }}<|start_header_id|>user<|end_header_id|>\n'
    "{{- if and $.Tools $last }}\n"
    "\n"
    "Given the following functions, please respond with a JSON for a"
    " function call with its proper arguments that best answers the given prompt.\n"
    "\n"
    'Respond in the format {"name": function name, "parameters":'
    " dictionary of argument name and its value}. Do not use variables.\n"
    "\n"
    "{{ range $.Tools }}\n"
    "{{- . }}\n"
    "{{ end }}\n"
    "Question: {{ .Content }}<|eot_id|>\n"
    "{{- else }}\n"
    "\n"
    "{{ .Content }}<|eot_id|>\n"
    "{{- end }}{{ if $last }}<|start_header_id|>assistant<|end_header_id|>\n"
    "\n"
    "{{ end }}\n"
    '{{- else if eq .Role "assistant" }}<|start_header_id|>assistant<|end_header_id|>\n'
    "{{- if .ToolCalls }}\n"
    "{{ range .ToolCalls }}\n"
    '{"name": "{{ .Function.Name }}", "parameters": {{ .Function.Arguments }}}{{ end }}\n'
    "{{- else }}\n"
    "\n"
    "{{ .Content }}\n"
    "{{- end }}{{ if not $last }}<|eot_id|>{{ end }}\n"
    '{{- else if eq .Role "tool" }}<|start_header_id|>ipython<|end_header_id|>\n'
    "\n"
    "{{ .Content }}<|eot_id|>{{ if $last }}<|start_header_id|>assistant<|end_header_id|>\n"
    "\n"
    "{{ end }}\n"
    "{{- end }}\n"
    "{{- end }}"
)

QWEN25_CODER_TEMPLATE = (
    "{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>\n"
    "{{- else if .Messages }}\n"
    "{{- if or .System .Tools }}<|im_start|>system\n"
    "{{- if .System }}\n"
    "{{ .System }}\n"
    "{{- end }}\n"
    "{{- if .Tools }}\n"
    "\n"
    "# Tools\n"
    "\n"
    "You may call one or more functions to assist with the user query.\n"
    "\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n"
    "<tools>\n"
    "{{- range .Tools }}\n"
    '{"type": "function", "function": {{ .Function }}}\n'
    "{{- end }}\n"
    "</tools>\n"
    "\n"
    "For each function call, return a json object with function name and"
    " arguments within <tool_call></tool_call> XML tags:\n"
    "<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n'
    "</tool_call>\n"
    "{{- end }}<|im_end|>\n"
    "{{ end }}\n"
    "{{- range $i, $_ := .Messages }}\n"
    "{{- $last := eq (len (slice $.Messages $i)) 1 -}}\n"
    '{{- if eq .Role "user" }}<|im_start|>user\n'
    "{{ .Content }}<|im_end|>\n"
    '{{ else if eq .Role "assistant" }}<|im_start|>assistant\n'
    "{{ if .Content }}{{ .Content }}\n"
    "{{- else if .ToolCalls }}<tool_call>\n"
    '{{ range .ToolCalls }}{"name": "{{ .Function.Name }}", "arguments":'
    " {{ .Function.Arguments }}}\n"
    "{{ end }}</tool_call>\n"
    "{{- end }}{{ if not $last }}<|im_end|>\n"
    "{{ end }}\n"
    '{{- else if eq .Role "tool" }}<|im_start|>user\n'
    "<tool_response>\n"
    "{{ .Content }}\n"
    "</tool_response><|im_end|>\n"
    "{{ end }}\n"
    '{{- if and (ne .Role "assistant") $last }}<|im_start|>assistant\n'
    "{{ end }}\n"
    "{{- end }}\n"
    "{{- else }}\n"
    "{{- if .System }}<|im_start|>system\n"
    "{{ .System }}<|im_end|>\n"
    "{{ end }}{{ if .Prompt }}<|im_start|>user\n"
    "{{ .Prompt }}<|im_end|>\n"
    "{{ end }}<|im_start|>assistant\n"
    "{{ end }}{{ .Response }}{{ if .Response }}<|im_end|>{{ end }}"
)

DEEPSEEK_R1_TEMPLATE = (
    "{{- if .System }}{{ .System }}{{ end }}\n"
    "{{- range $i, $_ := .Messages }}\n"
    "{{- $last := eq (len (slice $.Messages $i)) 1}}\n"
    '{{- if eq .Role "user" }}<\uff5cUser\uff5c>{{ .Content }}\n'
    '{{- else if eq .Role "assistant" }}<\uff5cAssistant\uff5c>\n'
    "  {{- if and $.IsThinkSet (and $last .Thinking) -}}\n"
    "<think>\n"
    "{{ .Thinking }}\n"
    "</think>\n"
    "{{- end }}{{ .Content }}{{- if not $last }}<\uff5cend\u2581of\u2581sentence\uff5c>{{- end"
    " }}\n"
    "{{- end }}\n"
    '{{- if and $last (ne .Role "assistant") }}<\uff5cAssistant\uff5c>\n'
    "{{- if and $.IsThinkSet (not $.Think) -}}\n"
    "<think>\n"
    "\n"
    "</think>\n"
    "\n"
    "{{ end }}\n"
    "{{- end -}}\n"
    "{{- end }}"
)


THINK_FILTERED = ("deepseek-r1",)
"""Model names (without tag) whose earlier assistant turns lose their ``<think>`` block."""


def parameters_text(parameters: Sequence[tuple[str, Any]]) -> str:
    """``/api/show``'s ``parameters``: one ``%-30s %#v`` line per value, as Ollama writes them."""
    lines = []
    for key, value in parameters:
        if isinstance(value, str):
            shown = go_json(value).replace("\\u003c", "<").replace("\\u003e", ">")
            shown = shown.replace("\\u0026", "&")
        else:
            shown = go_json(value)
        lines.append(f"{key:<30} {shown}")
    return "\n".join(lines)


@dataclass
class OllamaTemplate:
    """A model template parsed as Ollama's ``template.Parse`` does."""

    template: GoTemplate
    uses_messages: bool


@lru_cache(maxsize=64)
def parse_template(text: str) -> OllamaTemplate:
    """Parse a model template; one without messages or response gets ``{{ .Response }}``."""
    template = GoTemplate(text)
    names = template.identifiers()
    if "messages" not in names and "response" not in names:
        append_field_action(template, "Response")
    return OllamaTemplate(template, "messages" in names)


def strip_thinking(content: str) -> str:
    """The content left once Ollama's thinking parser has taken a leading ``<think>`` block."""
    trimmed = content.lstrip()
    if trimmed.startswith("<think>"):
        after = trimmed[len("<think>") :].lstrip()
        end = after.find("</think>")
        return "" if end < 0 else after[end + len("</think>") :].lstrip()
    if "<think>".startswith(trimmed):
        return ""
    return content


def chat_messages(
    model_name: str, system: str, messages: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The messages Ollama renders: the default system in front, earlier thinking taken out."""
    out = [dict(m) for m in messages]
    if out and out[0].get("role") != "system" and system:
        out.insert(0, {"role": "system", "content": system})
    if model_name.split(":")[0].rsplit("/", 1)[-1] in THINK_FILTERED:
        last_user = max((i for i, m in enumerate(out) if m.get("role") == "user"), default=-1)
        for i, m in enumerate(out):
            if m.get("role") == "assistant" and i < last_user:
                m["content"] = strip_thinking(str(m.get("content") or ""))
    return out


# ----------------------------------------------------------------------------- Go structs
def _property_struct(schema: Any) -> Struct:
    """An ``api.ToolProperty`` as ``json.Marshal`` writes it (only the keys Ollama keeps)."""
    schema = schema if isinstance(schema, dict) else {}
    out = Struct()
    any_of = schema.get("anyOf")
    if isinstance(any_of, list) and any_of:
        out["anyOf"] = [_property_struct(p) for p in any_of]
    kinds = _property_type(schema.get("type"))
    if kinds:
        out["type"] = kinds[0] if len(kinds) == 1 else kinds
    if schema.get("items") is not None:
        out["items"] = schema["items"]
    if isinstance(schema.get("description"), str) and schema["description"]:
        out["description"] = schema["description"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        out["enum"] = schema["enum"]
    return out


def _property_type(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _function_struct(function: dict[str, Any]) -> Struct:
    params = function.get("parameters")
    params = params if isinstance(params, dict) else {}
    parameters = Struct()
    parameters["type"] = params.get("type") if isinstance(params.get("type"), str) else ""
    if params.get("$defs") is not None:
        parameters["$defs"] = params["$defs"]
    if params.get("items") is not None:
        parameters["items"] = params["items"]
    required = params.get("required")
    parameters["required"] = required if isinstance(required, list) else None
    properties = params.get("properties")
    parameters["properties"] = (
        {k: _property_struct(v) for k, v in properties.items()}
        if isinstance(properties, dict)
        else None
    )
    out = Struct()
    out["name"] = str(function.get("name") or "")
    # templateToolFunction's description has no omitempty: an empty one is written
    description = function.get("description")
    out["description"] = description if isinstance(description, str) else ""
    out["parameters"] = parameters
    return out


def _tool_struct(tool: dict[str, Any]) -> Struct:
    out = Struct()
    out["type"] = tool.get("type") if isinstance(tool.get("type"), str) else ""
    if tool.get("items") is not None:
        out["items"] = tool["items"]
    function = tool.get("function")
    out["function"] = _function_struct(function if isinstance(function, dict) else {})
    return out


def tool_json(tool: dict[str, Any]) -> str:
    """A tool as ``{{ . }}`` prints it in a template (Go's ``json.Marshal`` of ``api.Tool``)."""
    return go_json(_tool_struct(tool))


def _go_struct(struct: Struct) -> GoValue:
    """A ``Struct`` as a template value, printing as its JSON (the api types' ``String()``)."""
    fields: dict[str, Any] = {}
    for key, value in struct.items():
        name = {"$defs": "Defs", "anyOf": "AnyOf"}.get(key, key[:1].upper() + key[1:])
        if isinstance(value, Struct):
            fields[name] = _go_struct(value)
        elif key == "properties" and isinstance(value, dict):
            fields[name] = GoValue({k: _go_struct(v) for k, v in value.items()}, is_map=True)
        elif key == "anyOf":
            fields[name] = [_go_struct(v) for v in value]
        else:
            fields[name] = value
    for missing in ("Description", "Items", "Defs", "AnyOf", "Enum", "Type"):
        fields.setdefault(missing, None)
    return GoValue(fields, text=go_json(struct))


def _function_value(function: Struct) -> GoValue:
    """``templateToolFunction``, which has no ``String()``: ``fmt`` prints it as a struct.

    ``{{ .Function }}`` is ``{name description {type <nil> <nil> [required] {props}}}``;
    only its ``Properties`` (``templateProperties``) print as JSON.
    """
    params = function["parameters"]
    properties = params.get("properties")
    props_value = GoValue(
        {k: _go_struct(v) for k, v in (properties or {}).items()},
        text=go_json(properties) if properties is not None else "{}",
        is_map=True,
    )
    parameters = GoValue(
        {
            "Type": params.get("type") or "",
            "Defs": params.get("$defs"),
            "Items": params.get("items"),
            "Required": list(params.get("required") or []),
            "Properties": props_value,
        }
    )
    return GoValue(
        {
            "Name": function["name"],
            "Description": function["description"],
            "Parameters": parameters,
        }
    )


def tool_value(tool: dict[str, Any]) -> GoValue:
    """A request's tool as a template sees it (``templateTool``: fields; its JSON as text).

    As Ollama serves tools to templates since ollama/ollama #13525 (January 2026).
    """
    struct = _tool_struct(tool)
    value = _go_struct(struct)
    value.fields["Function"] = _function_value(struct["function"])
    return value


def _message_value(message: dict[str, Any]) -> GoValue:
    calls = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        arguments = function.get("arguments") or {}
        calls.append(
            GoValue(
                {
                    "Function": GoValue(
                        {
                            "Index": function.get("index") or 0,
                            "Name": str(function.get("name") or ""),
                            "Arguments": GoValue(arguments, text=go_json(arguments), is_map=True),
                        }
                    )
                }
            )
        )
    return GoValue(
        {
            "Role": str(message.get("role") or "").lower(),
            "Content": str(message.get("content") or ""),
            "Thinking": str(message.get("thinking") or ""),
            "Images": list(message.get("images") or []),
            "ToolCalls": calls,
            "ToolName": str(message.get("tool_name") or ""),
        }
    )


def _collate(messages: Sequence[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    system: list[str] = []
    collated: list[dict[str, Any]] = []
    for m in messages:
        role = str(m.get("role") or "").lower()
        content = str(m.get("content") or "")
        if role == "system":
            system.append(content)
        if collated and collated[-1]["role"] == role and role != "tool":
            collated[-1]["content"] += "\n\n" + content
        else:
            collated.append({**m, "role": role, "content": content})
    return "\n\n".join(system), collated


def render_messages(
    template_text: str,
    messages: Sequence[dict[str, Any]],
    tools: Sequence[dict[str, Any]] = (),
    think: bool | str | None = None,
) -> str:
    """The prompt Ollama's ``Template.Execute`` renders for these messages and tools."""
    parsed = parse_template(template_text)
    system, collated = _collate(messages)
    think_values = {
        "Think": bool(think),
        "ThinkLevel": think if isinstance(think, str) else "",
        "IsThinkSet": think is not None,
    }
    if parsed.uses_messages:
        data = {
            "System": system,
            "Messages": [_message_value(m) for m in collated],
            "Tools": [tool_value(t) for t in tools] if tools else None,
            "Response": "",
            **think_values,
        }
        return parsed.template.execute(data)
    return _render_legacy(parsed.template, collated, think_values)


def render_insert(
    template_text: str, prompt: str, suffix: str, think: bool | str | None = None
) -> str:
    """The prompt of a ``/api/generate`` with ``suffix`` (fill-in-the-middle): Prompt and Suffix."""
    data = {
        "Prompt": prompt,
        "Suffix": suffix,
        "Response": "",
        "Think": bool(think),
        "ThinkLevel": think if isinstance(think, str) else "",
        "IsThinkSet": think is not None,
    }
    return parse_template(template_text).template.execute(data)


def _render_legacy(
    template: GoTemplate, messages: list[dict[str, Any]], think_values: dict[str, Any]
) -> str:
    out: list[str] = []
    turn = {"System": "", "Prompt": "", "Response": ""}

    def execute() -> None:
        out.append(template.execute({**turn, **think_values}))
        turn.update(System="", Prompt="", Response="")

    for m in messages:
        role, content = m["role"], m["content"]
        if role == "system":
            if turn["Prompt"] or turn["Response"]:
                execute()
            turn["System"] = content
        elif role == "user":
            if turn["Response"]:
                execute()
            turn["Prompt"] = content
        elif role == "assistant":
            turn["Response"] = content
    last = nodes_through_field(template, "Response")
    out.append(template.execute({**turn, **think_values}, nodes=last))
    return "".join(out)
