"""The served templates render what Ollama's own template tests expect, and /api/show's facts.

Fixtures: the expected prompts of Ollama's template tests, ``template/testdata/
llama3-instruct.gotmpl/*`` and ``template/testdata/chatml.gotmpl/*`` of ollama/ollama at tag
v0.12.6 (commit 1813ff85a027d7d4d76761a2bf12c2198dfaa0cf; unchanged at 2026-08 main), for the
three conversations of its ``TestTemplate``. The library's llama3.1 and qwen2.5-coder templates
render these conversations like the llama3-instruct and chatml families they belong to.
"""

from __future__ import annotations

from typing import Any

import httpx
import ollama
import pytest

from zero_llm.testing import OllamaEmulator
from zero_llm.testing.prompts import (
    DEEPSEEK_R1_TEMPLATE,
    LLAMA31_TEMPLATE,
    QWEN25_CODER_TEMPLATE,
    render_messages,
)

HELLO = {"role": "user", "content": "Hello, how are you?"}
GREAT = {"role": "assistant", "content": "I'm doing great. How can I help you today?"}
SHOW = {"role": "user", "content": "I'd like to show off how chat templating works!"}
SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
CONVERSATIONS = {
    "user": [HELLO],
    "user-assistant-user": [HELLO, GREAT, SHOW],
    "system-user-assistant-user": [SYSTEM, HELLO, GREAT, SHOW],
}

H, E, EOT = "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"
LLAMA3_EXPECTED = {
    "user": f"{H}user{E}\n\nHello, how are you?{EOT}{H}assistant{E}\n\n",
    "user-assistant-user": (
        f"{H}user{E}\n\nHello, how are you?{EOT}{H}assistant{E}\n\n"
        f"I'm doing great. How can I help you today?{EOT}{H}user{E}\n\n"
        f"I'd like to show off how chat templating works!{EOT}{H}assistant{E}\n\n"
    ),
    "system-user-assistant-user": (
        f"{H}system{E}\n\nYou are a helpful assistant.{EOT}"
        f"{H}user{E}\n\nHello, how are you?{EOT}{H}assistant{E}\n\n"
        f"I'm doing great. How can I help you today?{EOT}{H}user{E}\n\n"
        f"I'd like to show off how chat templating works!{EOT}{H}assistant{E}\n\n"
    ),
}
S, N = "<|im_start|>", "<|im_end|>"
CHATML_EXPECTED = {
    "user": f"{S}user\nHello, how are you?{N}\n{S}assistant\n",
    "user-assistant-user": (
        f"{S}user\nHello, how are you?{N}\n{S}assistant\n"
        f"I'm doing great. How can I help you today?{N}\n{S}user\n"
        f"I'd like to show off how chat templating works!{N}\n{S}assistant\n"
    ),
    "system-user-assistant-user": (
        f"{S}system\nYou are a helpful assistant.{N}\n"
        f"{S}user\nHello, how are you?{N}\n{S}assistant\n"
        f"I'm doing great. How can I help you today?{N}\n{S}user\n"
        f"I'd like to show off how chat templating works!{N}\n{S}assistant\n"
    ),
}


@pytest.mark.parametrize("name", list(CONVERSATIONS))
@pytest.mark.parametrize(
    ("template", "expected"),
    [(LLAMA31_TEMPLATE, LLAMA3_EXPECTED), (QWEN25_CODER_TEMPLATE, CHATML_EXPECTED)],
    ids=["llama3.1", "qwen2.5-coder"],
)
def test_served_templates_render_ollamas_expected_prompts(
    template: str, expected: dict[str, str], name: str
) -> None:
    assert render_messages(template, CONVERSATIONS[name]) == expected[name]


def test_deepseek_r1_renders_thinking_only_for_a_last_assistant_turn_when_think_is_set() -> None:
    thought = {**GREAT, "thinking": "They greet me."}
    bar = "\uff5c"
    earlier = render_messages(DEEPSEEK_R1_TEMPLATE, [HELLO, thought, SHOW], think=True)
    assert "They greet me." not in earlier
    assert earlier.endswith(f"<{bar}Assistant{bar}>")
    last = render_messages(DEEPSEEK_R1_TEMPLATE, [HELLO, thought], think=True)
    assert "<think>\nThey greet me.\n</think>" in last
    no_think = render_messages(DEEPSEEK_R1_TEMPLATE, [HELLO], think=False)
    assert no_think.endswith(f"<{bar}Assistant{bar}><think>\n\n</think>\n\n")


def test_a_prompt_only_template_renders_each_turn_the_legacy_way() -> None:
    template = "{{ if .System }}S:{{ .System }} {{ end }}U:{{ .Prompt }} A:{{ .Response }}|"
    prompt = render_messages(template, [SYSTEM, HELLO, GREAT, SHOW])
    assert prompt == (
        "S:You are a helpful assistant. U:Hello, how are you? "
        "A:I'm doing great. How can I help you today?|"
        "U:I'd like to show off how chat templating works! A:"
    )


def show(emulator: OllamaEmulator, model: str) -> dict[str, Any]:
    response = httpx.post(emulator.base_url + "/api/show", json={"model": model})
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def test_show_serves_the_real_templates_system_prompts_and_parameters(
    emulator: OllamaEmulator,
) -> None:
    qwen = show(emulator, "qwen2.5-coder:32b")
    assert qwen["template"] == QWEN25_CODER_TEMPLATE
    assert qwen["system"] == "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
    assert "parameters" not in qwen
    llama = show(emulator, "llama3.1:8b")
    assert llama["template"] == LLAMA31_TEMPLATE
    assert "system" not in llama
    assert llama["parameters"].splitlines() == [
        'stop                           "<|start_header_id|>"',
        'stop                           "<|end_header_id|>"',
        'stop                           "<|eot_id|>"',
    ]
    r1 = show(emulator, "deepseek-r1:32b")
    assert r1["template"] == DEEPSEEK_R1_TEMPLATE
    assert r1["parameters"].splitlines()[-2:] == [
        "temperature                    0.6",
        "top_p                          0.95",
    ]
    shown = ollama.Client(host=emulator.base_url).show("llama3.1:8b")
    assert shown.template == LLAMA31_TEMPLATE


@pytest.mark.parametrize(
    ("model", "pre", "bos", "eos", "add_bos"),
    [
        ("llama3.1:8b", "llama-bpe", 128000, 128009, True),
        ("qwen2.5-coder:32b", "qwen2", 151643, 151645, False),
        ("deepseek-r1:32b", "deepseek-r1-qwen", 151646, 151643, True),
    ],
)
def test_show_serves_the_blobs_tokenizer_facts(
    emulator: OllamaEmulator, model: str, pre: str, bos: int, eos: int, add_bos: bool
) -> None:
    info = show(emulator, model)["model_info"]
    assert info["tokenizer.ggml.pre"] == pre
    assert info["tokenizer.ggml.bos_token_id"] == bos
    assert info["tokenizer.ggml.eos_token_id"] == eos
    assert info["tokenizer.ggml.add_bos_token"] is add_bos
    assert info["general.file_type"] == 15
