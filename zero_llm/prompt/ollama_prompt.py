"""The prompt Ollama renders for a chat request: its rules, over the model's own template.

In: the ``/api/chat`` messages and tools we send (``zero_llm.ollama.messages`` builds
them), the model's ``template`` and default ``system`` from ``/api/show``, its name and
the ``think`` value. Out: the text the model reads, as Ollama's server builds it
(``server/routes.go`` ChatHandler and ``server/prompt.go``, ``template/template.go``):

* the default system prompt goes first when the first message is not a system message;
* for ``deepseek-r1`` models (and the ``qwen3`` family) the ``<think>...</think>`` part of
  the content of each assistant message before the last user message is dropped
  (``filterThinkTags``, with ``thinking.Parser``'s whitespace rules);
* messages are collated: every system message's content joins into ``.System`` with
  blank lines, and consecutive messages of one role (tool results aside) merge;
* the template runs over ``.System``, ``.Messages`` (role, content, thinking, tool calls
  with their arguments, tool name), ``.Tools``, ``.Think``, ``.ThinkLevel`` and
  ``.IsThinkSet``, with Ollama's functions; tools and arguments are Go values whose
  text is Go's (``json.Marshal`` with sorted map keys for arguments and properties, and
  ``fmt``'s ``{a b c}`` for a struct without a ``String`` method, as ``.Function`` is).

Only what Ollama's types keep of a tool is rendered (unknown schema keys such as
``title`` or ``default`` are dropped, as Go's decoder drops them). Templates that do not
range over ``.Messages`` (Ollama's legacy prompt/response path) are refused with
``TemplateError``: the caller then counts by estimate. Pure functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from zero_llm.prompt.gojson import GoJSON, OrderedObject, go_json
from zero_llm.prompt.gotemplate import GoStruct, Template, TemplateError, parse_template

__all__ = ["ChatTemplate", "chat_template", "model_base_name", "strip_think_tags"]


# ----------------------------------------------------------------------------- Go values
def _any(value: Any) -> Any:
    """A JSON value as Go decodes it into ``any``: numbers float64, objects maps."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _any(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_any(v) for v in value]
    return str(value)


class PropertyType(list[str]):
    """Ollama's ``PropertyType``: one type writes as a string, several as a list."""

    def go_string(self) -> str:
        """``String()``: the one type, or the types as ``fmt`` prints a slice."""
        if not self:
            return ""
        if len(self) == 1:
            return self[0]
        return "[" + " ".join(self) + "]"


@dataclass
class ToolProperty(GoStruct, GoJSON):
    """Ollama's ``api.ToolProperty``."""

    AnyOf: list[ToolProperty]
    Type: PropertyType
    Items: Any
    Description: str
    Enum: list[Any]
    Properties: OrderedObject | None
    Required: list[str]

    go_fields = ("AnyOf", "Type", "Items", "Description", "Enum", "Properties", "Required")
    json_fields = (
        ("anyOf", "AnyOf", True),
        ("type", "JSONType", True),
        ("items", "Items", True),
        ("description", "Description", True),
        ("enum", "Enum", True),
        ("properties", "Properties", True),
        ("required", "Required", True),
    )

    @property
    def JSONType(self) -> Any:
        """The type as Go marshals ``PropertyType``."""
        if not self.Type:
            return None
        return self.Type[0] if len(self.Type) == 1 else list(self.Type)


def _property(raw: Any) -> ToolProperty:
    raw = raw if isinstance(raw, Mapping) else {}
    kind = raw.get("type")
    types = PropertyType([kind] if isinstance(kind, str) else [str(t) for t in kind or []])
    nested = raw.get("properties")
    properties = (
        OrderedObject((str(k), _property(v)) for k, v in nested.items())
        if isinstance(nested, Mapping)
        else None
    )
    return ToolProperty(
        AnyOf=[_property(p) for p in raw.get("anyOf") or []],
        Type=types,
        Items=_any(raw.get("items")),
        Description=str(raw.get("description") or ""),
        Enum=[_any(v) for v in raw.get("enum") or []],
        Properties=properties,
        Required=[str(r) for r in raw.get("required") or []],
    )


class TemplateProperties(dict[str, ToolProperty]):
    """``templateProperties``: a map whose ``String()`` is its JSON (sorted keys)."""

    def go_string(self) -> str:
        """The properties as JSON."""
        return go_json(dict(self))


class TemplateArgs(dict[str, Any]):
    """``templateArgs``: tool-call arguments whose ``String()`` is their JSON."""

    def go_string(self) -> str:
        """The arguments as JSON (sorted keys, as Go writes a map)."""
        return go_json(dict(self))


@dataclass
class ToolParameters(GoStruct, GoJSON):
    """``templateToolFunctionParameters``."""

    Type: str
    Defs: Any
    Items: Any
    Required: list[str]
    Properties: TemplateProperties | None

    go_fields = ("Type", "Defs", "Items", "Required", "Properties")
    json_fields = (
        ("type", "Type", False),
        ("$defs", "Defs", True),
        ("items", "Items", True),
        ("required", "Required", True),
        ("properties", "Properties", False),
    )


@dataclass
class ToolFunction(GoStruct, GoJSON):
    """``templateToolFunction`` (no ``String`` method: ``fmt`` prints it as a struct)."""

    Name: str
    Description: str
    Parameters: ToolParameters

    go_fields = ("Name", "Description", "Parameters")
    json_fields = (
        ("name", "Name", False),
        ("description", "Description", False),
        ("parameters", "Parameters", False),
    )


@dataclass
class Tool(GoStruct, GoJSON):
    """``templateTool``: its ``String()`` is its JSON."""

    Type: str
    Items: Any
    Function: ToolFunction

    go_fields = ("Type", "Items", "Function")
    json_fields = (
        ("type", "Type", False),
        ("items", "Items", True),
        ("function", "Function", False),
    )

    def go_string(self) -> str:
        """The tool as JSON."""
        return go_json(self)


class Tools(list[Tool]):
    """``templateTools``: its ``String()`` is the JSON array."""

    _text: str | None = None

    def go_string(self) -> str:
        """The tools as a JSON array (written once)."""
        if self._text is None:
            self._text = go_json(list(self))
        return self._text


@lru_cache(maxsize=256)
def _tools_of(schemas: str, legacy: bool) -> Tools:
    """The template's tools for the tool schemas (as JSON text), converted once."""
    return Tools(_tool(t, legacy) for t in json.loads(schemas))


@dataclass
class LegacyToolFunction(ToolFunction):
    """``api.ToolFunction`` as templates saw it before Ollama v0.14.0 (#13525).

    Its ``String()`` is its JSON, and an empty description is left out of that JSON.
    """

    json_fields = (
        ("name", "Name", False),
        ("description", "Description", True),
        ("parameters", "Parameters", False),
    )

    def go_string(self) -> str:
        """The function as JSON."""
        return go_json(self)


def _tool(raw: Mapping[str, Any], legacy: bool = False) -> Tool:
    function = raw.get("function") if isinstance(raw.get("function"), Mapping) else {}
    assert isinstance(function, Mapping)
    params = function.get("parameters") if isinstance(function.get("parameters"), Mapping) else {}
    assert isinstance(params, Mapping)
    properties = params.get("properties")
    function_type = LegacyToolFunction if legacy else ToolFunction
    return Tool(
        Type=str(raw.get("type") or ""),
        Items=_any(raw.get("items")),
        Function=function_type(
            Name=str(function.get("name") or ""),
            Description=str(function.get("description") or ""),
            Parameters=ToolParameters(
                Type=str(params.get("type") or ""),
                Defs=_any(params.get("$defs")),
                Items=_any(params.get("items")),
                Required=[str(r) for r in params.get("required") or []],
                Properties=(
                    TemplateProperties((str(k), _property(v)) for k, v in properties.items())
                    if isinstance(properties, Mapping)
                    else None
                ),
            ),
        ),
    )


@dataclass
class ToolCallFunction(GoStruct):
    """``templateToolCallFunction``."""

    Index: int
    Name: str
    Arguments: TemplateArgs

    go_fields = ("Index", "Name", "Arguments")


@dataclass
class ToolCall(GoStruct):
    """``templateToolCall``."""

    ID: str
    Function: ToolCallFunction

    go_fields = ("ID", "Function")


@dataclass
class Message(GoStruct):
    """``templateMessage``: one collated message as the template sees it."""

    Role: str
    Content: str
    Thinking: str
    Images: list[Any]
    ToolCalls: list[ToolCall]
    ToolName: str
    ToolCallID: str

    go_fields = ("Role", "Content", "Thinking", "Images", "ToolCalls", "ToolName", "ToolCallID")

    def memo_key(self) -> tuple[Any, ...]:
        """Everything a template can read of the message, hashable (for render memos)."""
        calls = tuple(
            (c.ID, c.Function.Index, c.Function.Name, c.Function.Arguments.go_string())
            for c in self.ToolCalls
        )
        return (
            self.Role,
            self.Content,
            self.Thinking,
            tuple(self.Images),
            calls,
            self.ToolName,
            self.ToolCallID,
        )


def _tool_calls(raw: Any) -> list[ToolCall]:
    calls: list[ToolCall] = []
    for call in raw or []:
        function = call.get("function") or {}
        arguments = function.get("arguments") or {}
        calls.append(
            ToolCall(
                ID=str(call.get("id") or ""),
                Function=ToolCallFunction(
                    Index=int(function.get("index") or 0),
                    Name=str(function.get("name") or ""),
                    Arguments=TemplateArgs((str(k), _any(v)) for k, v in dict(arguments).items()),
                ),
            )
        )
    return calls


# ----------------------------------------------------------------------------- Ollama's rules
_GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)


def _trim_left_space(text: str) -> str:
    index = 0
    while index < len(text) and text[index] in _GO_SPACE:
        index += 1
    return text[index:]


def strip_think_tags(content: str, opening: str = "<think>", closing: str = "</think>") -> str:
    """The content ``thinking.Parser`` leaves of a whole earlier answer (thinking dropped)."""
    trimmed = _trim_left_space(content)
    if trimmed.startswith(opening):
        after = _trim_left_space(opening.join(trimmed.split(opening)[1:]))
        if closing in after:
            return _trim_left_space(closing.join(after.split(closing)[1:]))
        return ""
    if opening.startswith(trimmed):  # empty, whitespace only, or a partial opening tag
        return ""
    return content


def model_base_name(name: str) -> str:
    """The model part of a name as Ollama's ``ParseName(...).Model`` reads it."""
    path = name.split("/")[-1]
    return path.split(":", 1)[0]


def _filters_thinking(name: str, family: str | None) -> bool:
    return family == "qwen3" or model_base_name(name) == "deepseek-r1"


def _collate(messages: Sequence[Mapping[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    system: list[str] = []
    collated: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        content = str(message.get("content") or "")
        if role == "system":
            system.append(content)
        if collated and collated[-1]["role"] == role and role != "tool":
            collated[-1]["content"] += "\n\n" + content
        else:
            collated.append({**message, "role": role, "content": content})
    return "\n\n".join(system), collated


def _tag_images(messages: list[dict[str, Any]]) -> None:
    """Mark each image's place in its message's content as Ollama does (``[img-N]``)."""
    count = 0
    for message in messages:
        images = message.get("images") or []
        if not images:
            continue
        content, prefix = str(message.get("content") or ""), ""
        for _ in images:
            tag = f"[img-{count}]"
            count += 1
            if "[img]" in content:
                content = content.replace("[img]", tag, 1)
            else:
                prefix += tag
        message["content"] = prefix + content


def _current_date(*_: Any) -> str:
    return date.today().isoformat()


def _yesterday_date(*_: Any) -> str:
    return (date.today() - timedelta(days=1)).isoformat()


_TS_TYPES = {
    "string": "string",
    "number": "number",
    "integer": "number",
    "boolean": "boolean",
    "array": "any[]",
    "object": "Record<string, any>",
    "null": "null",
}
"""api.mapToTypeScriptType; any other JSON type is ``any``."""


def _ts_type(value: Any) -> str:
    if not isinstance(value, ToolProperty):
        return "any"
    if value.AnyOf:
        return " | ".join(_ts_type(p) for p in value.AnyOf)
    if not value.Type:
        return "any"
    return " | ".join(_TS_TYPES.get(t, "any") for t in value.Type)


OLLAMA_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": lambda value: go_json(value),
    "currentDate": _current_date,
    "yesterdayDate": _yesterday_date,
    "toTypeScriptType": _ts_type,
}
"""The functions Ollama's ``template`` package adds to Go's."""


@dataclass(frozen=True)
class ChatTemplate:
    """A model's template with Ollama's rules: renders the prompt of a chat request."""

    template: Template
    default_system: str | None
    model: str
    family: str | None = None
    legacy_tools: bool = False
    """Render tools as servers before Ollama v0.14.0 did (``api.Tool``, ``.Function`` as
    JSON); since v0.14.0 ``.Function`` has no ``String()`` and prints as a Go struct."""

    def render(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]] = (),
        think: bool | str | None = None,
    ) -> str:
        """The prompt Ollama builds for these ``/api/chat`` messages and tools."""
        msgs = [dict(m) for m in messages]
        if msgs and msgs[0].get("role") != "system" and self.default_system:
            msgs.insert(0, {"role": "system", "content": self.default_system})
        if _filters_thinking(self.model, self.family):
            last_user = max((i for i, m in enumerate(msgs) if m.get("role") == "user"), default=-1)
            for message in msgs[:last_user]:
                if message.get("role") == "assistant":
                    message["content"] = strip_think_tags(str(message.get("content") or ""))
        _tag_images(msgs)
        system, collated = _collate(msgs)
        think_on = bool(think) if not isinstance(think, str) else think not in ("", "false")
        data = {
            "System": system,
            "Messages": [
                Message(
                    Role=str(m.get("role") or ""),
                    Content=m["content"],
                    Thinking=str(m.get("thinking") or ""),
                    Images=list(m.get("images") or []),
                    ToolCalls=_tool_calls(m.get("tool_calls")),
                    ToolName=str(m.get("tool_name") or ""),
                    ToolCallID=str(m.get("tool_call_id") or ""),
                )
                for m in collated
            ],
            "Tools": (
                _tools_of(json.dumps(tools, sort_keys=True, default=str), self.legacy_tools)
                if tools
                else None
            ),
            "Response": "",
            "Think": think_on,
            "ThinkLevel": think if isinstance(think, str) else "",
            "IsThinkSet": think is not None,
        }
        return self.template.execute(data)


@lru_cache(maxsize=64)
def _parsed(source: str) -> Template:
    template = parse_template(source, OLLAMA_FUNCTIONS)
    names = template.identifiers()
    if "messages" not in names:
        raise TemplateError(
            "the template does not range over .Messages (Ollama's legacy prompt/response "
            "path): its prompt is estimated, not rendered"
        )
    return template


def chat_template(
    source: str,
    default_system: str | None,
    model: str,
    family: str | None = None,
    server_version: str | None = None,
) -> ChatTemplate:
    """A model's chat template, parsed once per text (``TemplateError`` if unsupported).

    ``server_version`` (``/api/version``) picks how tools are rendered: as Ollama's
    servers before v0.14.0 did, or since; unknown means a current server.
    """
    return ChatTemplate(
        _parsed(source), default_system or None, model, family, _before(server_version, (0, 14, 0))
    )


def _before(version: str | None, than: tuple[int, ...]) -> bool:
    """Whether an Ollama version string is older than ``than`` (unknown: no)."""
    if not version:
        return False
    numbers = []
    for part in version.lstrip("v").split("-")[0].split("."):
        if not part.isdigit():
            return False
        numbers.append(int(part))
    return tuple(numbers) < than
