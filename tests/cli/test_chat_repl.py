"""chat is a REPL: line editing, local slash commands, Ctrl-C stops only the answer."""

from __future__ import annotations

from pathlib import Path

from tests.cli.terminal import base_env, run_on_terminal
from zero_llm.testing import OllamaEmulator

LEFT = b"\x1b[D"
CTRL_C = b"\x03"
PROMPT = "you> "


def test_slash_commands_are_local_and_arrow_keys_edit(tmp_path: Path) -> None:
    with OllamaEmulator() as emu:
        env = base_env(emu.base_url, tmp_path / "home")
        run = run_on_terminal(
            ["chat", "--session", "s1"],
            env,
            stdout_on_terminal=True,
            typed=[
                (PROMPT, b"/help\r"),
                (PROMPT, b"/nonsense\r"),
                (PROMPT, b"/model lama3.1:8b\r"),
                (PROMPT, b"helo" + LEFT + b"l\r"),  # "helo", back one, "l": "hello"
                (PROMPT, b"\x04"),  # Ctrl-D
            ],
        )
        chats = [r.body or {} for r in emu.requests_to("/api/chat")]
    assert run.code == 0, run.terminal
    assert "/model NAME" in run.terminal and "unknown command /nonsense" in run.terminal
    assert "did you mean 'llama3.1:8b'" in run.terminal  # /model lama3.1:8b
    assert "You said: hello" in run.terminal and "\\x1b" not in run.terminal
    sent = [m["content"] for body in chats for m in body.get("messages", [])]
    assert all(not text.startswith("/") for text in sent), sent  # no command reached a model
    assert "hello" in sent and "bye (session s1 is kept)" in run.terminal


def test_ctrl_c_stops_the_answer_and_keeps_the_chat(tmp_path: Path) -> None:
    with OllamaEmulator(chunk_delay=0.1) as emu:
        env = base_env(emu.base_url, tmp_path / "home")
        run = run_on_terminal(
            ["chat", "--session", "s2"],
            env,
            stdout_on_terminal=True,
            typed=[
                (PROMPT, b"tell me a long story about " + b"words " * 40 + b"\r"),
                ("You said: tell", CTRL_C),
                (PROMPT, b"again\r"),
                (PROMPT, b"/exit\r"),
            ],
            timeout=60,
        )
    assert run.code == 0, run.terminal
    assert "(answer stopped)" in run.terminal
    assert "You said: again" in run.terminal.split("(answer stopped)")[-1]
    assert "bye (session s2 is kept)" in run.terminal
