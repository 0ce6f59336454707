"""The emulator's Go ``text/template`` interpreter, on behaviour the Go documentation states."""

from __future__ import annotations

from typing import Any

import pytest

from zero_llm.testing.gotemplate import GoTemplate, GoValue, TemplateError, go_json
from zero_llm.testing.prompts import tool_value


def render(source: str, data: Any = None) -> str:
    return GoTemplate(source).execute({} if data is None else data)


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [
        ("a  {{- 1 -}}  b", {}, "a1b"),  # trim markers eat all space on their side
        ("a\n{{- /* a comment */ -}}\nb", {}, "ab"),
        ("{{ if .X }}x{{ else if .Y }}y{{ else }}z{{ end }}", {"Y": "1"}, "y"),
        ("{{ if .X }}x{{ else if .Y }}y{{ else }}z{{ end }}", {}, "z"),
        ("{{ range $i, $v := .L }}{{ $i }}={{ $v }};{{ end }}", {"L": ["a", "b"]}, "0=a;1=b;"),
        ("{{ range .L }}{{ . }}{{ else }}empty{{ end }}", {"L": []}, "empty"),
        ("{{ range $k, $v := .M }}{{ $k }}{{ $v }}{{ end }}", {"M": {"b": 2, "a": 1}}, "a1b2"),
        ("{{ with .X }}[{{ . }}]{{ else }}none{{ end }}", {"X": "v"}, "[v]"),
        ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", {}, "2"),
        ('{{ and 1 0 2 }}|{{ or 0 "" 3 }}|{{ not 0 }}', {}, "0|3|true"),
        ("{{ and false .Missing.Field }}", {}, "false"),  # and stops at the first false
        ("{{ len (slice .L 1) }}{{ index .L 0 }}", {"L": ["a", "b", "c"]}, "2a"),
        (
            '{{ eq .R "user" "tool" }}{{ ne 1 2 }}{{ lt 1 2 }}{{ ge 2 2 }}',
            {"R": "tool"},
            "truetruetruetrue",
        ),
        ("{{ .Missing }}", {}, "<no value>"),  # missingkey=zero on Ollama's top-level map
        ('{{ "a\\tb" }}{{ `raw\\n` }}', {}, "a\tbraw\\n"),
        ('{{ .S | printf "%q" }}', {"S": "x"}, '"x"'),
        (
            "{{ range .L }}{{ if eq . 2 }}{{ break }}{{ end }}{{ . }}{{ end }}",
            {"L": [1, 2, 3]},
            "1",
        ),
        (
            "{{ json .V }}",
            {"V": {"b": [1, 2.5], "a": "<&>"}},
            '{"a":"\\u003c\\u0026\\u003e","b":[1,2.5]}',
        ),
    ],
)
def test_templates_render_as_go_documents(source: str, data: Any, expected: str) -> None:
    assert render(source, data) == expected


def test_a_struct_prints_through_its_string_method_and_fields_reach_inside() -> None:
    tool = GoValue({"Function": GoValue({"Name": "f"}, text='{"name":"f"}')}, text="TOOL")
    assert render("{{ . }} {{ .Function }} {{ .Function.Name }}", tool) == 'TOOL {"name":"f"} f'


@pytest.mark.parametrize(
    "source", ["{{ if .X }}no end", "{{ nosuch 1 }}", "{{ .X.Y }}", "{{ end }}"]
)
def test_broken_templates_fail_like_go(source: str) -> None:
    with pytest.raises(TemplateError):
        GoTemplate(source).execute({"X": "s"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, "1"),
        (0.1, "0.1"),
        (1e-7, "1e-7"),
        (1e21, "1e+21"),
        (123456789.0, "123456789"),
        ({"z": None, "a": True}, '{"a":true,"z":null}'),
        ("line\nbreak \u2028 \U0001f600", '"line\\nbreak \\u2028 \U0001f600"'),
    ],
)
def test_go_json_writes_what_go_json_marshal_writes(value: Any, expected: str) -> None:
    assert go_json(value) == expected


def test_ollamas_to_typescript_type_reads_a_tool_property() -> None:
    tool = tool_value(
        {
            "type": "function",
            "function": {
                "name": "f",
                "parameters": {
                    "type": "object",
                    "properties": {"a": {"type": "integer"}, "b": {"type": ["string", "null"]}},
                },
            },
        }
    )
    source = (
        "{{ range $k, $v := .Function.Parameters.Properties }}"
        "{{ $k }}:{{ toTypeScriptType $v }};{{ end }}"
    )
    assert GoTemplate(source).execute(tool) == "a:number;b:string | null;"
