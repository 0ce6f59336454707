"""The Go template interpreter and Ollama's rendering rules, against Ollama's own tests.

The expected renders are Ollama's (``template/testdata`` and ``template_test.go`` at
commit fb3076099), kept in ``fixtures/ollama_template_tests.json`` as facts: every
template of Ollama's built-in library, over the three conversations its tests use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from zero_llm.prompt.gojson import go_json
from zero_llm.prompt.gotemplate import TemplateError, parse_template
from zero_llm.prompt.ollama_prompt import chat_template, strip_think_tags

FIXTURES = Path(__file__).with_name("fixtures")
OLLAMA_TESTS = json.loads((FIXTURES / "ollama_template_tests.json").read_text())
CASES: dict[str, list[dict[str, Any]]] = OLLAMA_TESTS["cases"]


@pytest.mark.parametrize("name", sorted(OLLAMA_TESTS["templates"]))
def test_every_ollama_library_template_renders_as_ollamas_tests_expect(name: str) -> None:
    entry = OLLAMA_TESTS["templates"][name]
    template = chat_template(entry["template"], None, "some-model")
    for case, messages in CASES.items():
        assert template.render(messages) == entry["expected"][case], (name, case)


MISTRAL_MESSAGES = (
    "[INST] {{ if .System }}{{ .System }}\n\n{{ end }}\n{{- range .Messages }}\n"
    '{{- if eq .Role "user" }}{{ .Content }}[/INST] {{ else if eq .Role "assistant" }}'
    "{{ .Content }}[INST] {{ end }}\n{{- end }}"
)


@pytest.mark.parametrize(
    ("template", "messages", "expected"),
    [
        (  # TestExecuteWithMessages "mistral"
            MISTRAL_MESSAGES,
            [
                {"role": "user", "content": "Hello friend!"},
                {"role": "assistant", "content": "Hello human!"},
                {"role": "user", "content": "What is your name?"},
            ],
            "[INST] Hello friend![/INST] Hello human![INST] What is your name?[/INST] ",
        ),
        (  # TestExecuteWithMessages "mistral system"
            MISTRAL_MESSAGES,
            [
                {"role": "system", "content": "You are a helpful assistant!"},
                {"role": "user", "content": "Hello friend!"},
                {"role": "assistant", "content": "Hello human!"},
                {"role": "user", "content": "What is your name?"},
            ],
            "[INST] You are a helpful assistant!\n\nHello friend![/INST] Hello human![INST] "
            "What is your name?[/INST] ",
        ),
        (  # TestExecuteWithMessages "chatml"
            "\n{{- range $index, $_ := .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}"
            "<|im_end|>\n{{ end }}<|im_start|>assistant\n",
            [
                {"role": "system", "content": "You are a helpful assistant!"},
                {"role": "user", "content": "Hello friend!"},
                {"role": "assistant", "content": "Hello human!"},
                {"role": "user", "content": "What is your name?"},
            ],
            "<|im_start|>system\nYou are a helpful assistant!<|im_end|>\n<|im_start|>user\n"
            "Hello friend!<|im_end|>\n<|im_start|>assistant\nHello human!<|im_end|>\n"
            "<|im_start|>user\nWhat is your name?<|im_end|>\n<|im_start|>assistant\n",
        ),
        (  # TestTemplateArgumentsRange
            "{{- range .Messages }}{{- range .ToolCalls }}"
            "{{- range $k, $v := .Function.Arguments }}"
            "{{ $k }}={{ $v }};{{- end }}{{- end }}{{- end }}",
            [
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {"function": {"name": "get_weather", "arguments": {"city": "Tokyo"}}}
                    ],
                }
            ],
            "city=Tokyo;",
        ),
    ],
)
def test_ollamas_execute_cases(
    template: str, messages: list[dict[str, Any]], expected: str
) -> None:
    assert chat_template(template, None, "m").render(messages) == expected


def test_properties_range_as_in_ollamas_test() -> None:
    template = chat_template(
        "{{- range .Messages }}{{- end }}{{- range .Tools }}{{- range $name, $prop := "
        ".Function.Parameters.Properties }}{{ $name }}:{{ $prop.Type }};{{- end }}{{- end }}",
        None,
        "m",
    )
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
            },
        }
    ]
    assert template.render([{"role": "user", "content": "test"}], tools) == "location:string;"


def test_arguments_and_properties_print_as_go_json() -> None:
    template = chat_template(
        "{{- range .Messages }}{{- range .ToolCalls }}{{ .Function.Arguments }}{{ end }}{{ end }}|"
        "{{- range .Tools }}{{ .Function.Parameters.Properties }}|{{ . }}{{ end }}",
        None,
        "m",
    )
    tools = [
        {
            "type": "function",
            "function": {
                "name": "quote",
                "description": "Price <now> & then",
                "parameters": {
                    "type": "object",
                    "title": "dropped: Ollama's types keep no title",
                    "properties": {
                        "t": {"type": "string", "enum": ["A", "B"]},
                        "n": {"type": "integer"},
                    },
                    "required": ["t"],
                },
            },
        }
    ]
    messages = [
        {"role": "user", "content": "q"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"function": {"name": "quote", "arguments": {"z": 1, "a": [1.5, "<b>"]}}}
            ],
        },
    ]
    rendered = template.render(messages, tools)
    arguments, properties, tool = rendered.split("|")
    # Go writes a map with sorted keys, no spaces, HTML characters escaped, 1.0 as 1
    assert arguments == '{"a":[1.5,"\\u003cb\\u003e"],"z":1}'
    assert properties == '{"n":{"type":"integer"},"t":{"type":"string","enum":["A","B"]}}'
    assert json.loads(tool)["function"]["parameters"] == {
        "type": "object",
        "required": ["t"],
        "properties": json.loads(properties),
    }
    assert tool.startswith('{"type":"function","function":{"name":"quote","description":')


def test_collate_merges_runs_of_one_role_but_not_tool_results() -> None:
    template = chat_template(
        "{{ .System }}|{{ range .Messages }}{{ .Role }}:{{ .Content }}/{{ .ToolName }};{{ end }}",
        None,
        "m",
    )
    messages = [
        {"role": "system", "content": "You are helpful"},
        {"role": "user", "content": "Hello"},
        {"role": "user", "content": "How are you?"},
        {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
        {"role": "tool", "content": "72F", "tool_name": "get_temperature"},
    ]
    assert template.render(messages) == (
        "You are helpful|system:You are helpful/;user:Hello\n\nHow are you?/;"
        "tool:sunny/get_weather;tool:72F/get_temperature;"
    )


def test_default_system_prompt_only_when_the_conversation_has_none() -> None:
    template = chat_template(
        "{{ .System }}|{{ range .Messages }}{{ .Content }};{{ end }}", "SYS", "m"
    )
    assert template.render([{"role": "user", "content": "hi"}]) == "SYS|SYS;hi;"
    assert template.render(
        [{"role": "system", "content": "own"}, {"role": "user", "content": "hi"}]
    ) == ("own|own;hi;")


@pytest.mark.parametrize(
    ("content", "left"),
    [
        ("<think>plan</think>\n\nanswer", "answer"),
        ("  <think>\nplan\n</think>answer", "answer"),
        ("<think>never closed", ""),
        ("   ", ""),
        ("<thi", ""),
        ("no thinking here", "no thinking here"),
        ("  kept as is <think>x</think>", "  kept as is <think>x</think>"),
    ],
)
def test_earlier_thinking_is_dropped_as_ollamas_parser_does(content: str, left: str) -> None:
    assert strip_think_tags(content) == left


def test_deepseek_r1_drops_earlier_thinking_only_before_the_last_user_message() -> None:
    template = chat_template(
        "{{ range .Messages }}{{ .Content }};{{ end }}", None, "deepseek-r1:32b"
    )
    messages = [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "<think>long plan</think>a1"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "<think>kept</think>a2"},
    ]
    assert template.render(messages) == "q1;a1;q2;<think>kept</think>a2;"
    other = chat_template("{{ range .Messages }}{{ .Content }};{{ end }}", None, "llama3.1:8b")
    assert "long plan" in other.render(messages)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a  {{- 1 -}}  b", "a1b"),
        ("{{/* a comment */}}x{{- /* trimmed */ -}}  y", "xy"),
        ('{{ if eq 1 2 }}a{{ else if eq "x" "x" }}b{{ else }}c{{ end }}', "b"),
        ("{{ with .Missing }}a{{ else }}none{{ end }}", "none"),
        ("{{ range .Empty }}a{{ else }}empty{{ end }}", "empty"),
        ("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"),
        (
            "{{ range $i, $v := .List }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $v }}{{ end }}",
            "ac",
        ),
        ('{{ range .List }}{{ if eq . "b" }}{{ break }}{{ end }}{{ . }}{{ end }}', "a"),
        ('{{ and 1 0 2 }}|{{ or 0 "" 3 }}|{{ not 0 }}', "0|3|true"),
        ('{{ len "שלום" }}', "8"),  # Go's len of a string counts bytes
        ("{{ .Missing }}", "<no value>"),
        ("{{ index .List 2 }}{{ slice .List 1 2 }}", "c[b]"),
        ('{{ (index .List 0) | printf "%s!" }}', "a!"),
        ("{{ .Map }}", "map[a:1 b:[x y]]"),
        ("{{ json .Map }}", '{"a":1,"b":["x","y"]}'),
        ("{{ 1.5 }} {{ 1e6 }} {{ 0.0001 }}", "1.5 1e+06 0.0001"),
    ],
)
def test_go_template_semantics(source: str, expected: str) -> None:
    data = {"List": ["a", "b", "c"], "Empty": [], "Map": {"b": ["x", "y"], "a": 1}}
    assert parse_template(source, {"json": go_json}).execute(data) == expected


@pytest.mark.parametrize(
    "source",
    [
        "{{ if .X }}never closed",
        '{{ define "x" }}{{ end }}',
        "{{ end }}",
        "{{ .X",
        "{{ nosuchfunc 1 }}",
    ],
)
def test_what_cannot_be_rendered_is_a_template_error(source: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(source).execute({"X": 1})


def test_a_template_that_never_ranges_over_messages_is_left_to_the_estimate() -> None:
    with pytest.raises(TemplateError, match="legacy"):
        chat_template("{{ .System }} {{ .Prompt }} {{ .Response }}", None, "m")
