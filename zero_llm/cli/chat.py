"""The ``chat`` command: a REPL whose Ctrl-C stops only the answer in flight.

In: lines typed at ``you>`` (``readline`` gives editing and this chat's history when the
standard library has it). Out: each answer streamed on stdout with its status line on
stderr. A line starting with ``/`` is a command handled here, never sent to a model
(``//text`` sends ``/text``). Ctrl-C while an answer streams stops that answer (the
request to Ollama is cancelled) and the chat goes on; at the prompt it clears the line;
Ctrl-D or ``/exit`` ends the chat. Each turn runs on one event loop kept for the whole
chat (``asyncio.Runner``), so the prompt itself is plain blocking ``input()``.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from zero_llm.cli.common import HostOption, fail, fail_error, manager_for, report_answer, say
from zero_llm.cli.sanitize import printable

if TYPE_CHECKING:
    import asyncio

    from zero_llm.manager import ModelManager

__all__ = ["COMMANDS", "ChatState", "chat"]

COMMANDS = {
    "/help": "this list",
    "/task NAME": "route every question as task NAME (/task alone: from the text again)",
    "/model NAME": "ask model NAME (any model Ollama has); /model auto: routed again",
    "/think": "show the model's thinking as it comes (/think off: the spinner again)",
    "/session": "show this conversation's id",
    "/exit": "end the chat (also /quit, Ctrl-D); the conversation is kept",
}
"""The slash commands and what each does (``/help`` prints them)."""


@dataclass
class ChatState:
    """What a chat remembers between turns."""

    session_id: str
    task: str | None = None
    model: str | None = None
    think: bool = False
    """Show the model's thinking (dim) instead of the "thinking..." status line."""
    done: bool = False
    unstored: int = 0
    """Turns answered but not stored (each said when it happened; the exit code is 1)."""


def _enable_line_editing() -> None:
    """Arrow keys, Home/End and this chat's history through ``readline``, if present."""
    try:
        import readline  # noqa: F401  (importing it is what makes input() edit lines)
    except ImportError:  # pragma: no cover - Windows without pyreadline
        return


def _help() -> None:
    width = max(len(name) for name in COMMANDS)
    for name, what in COMMANDS.items():
        say(f"  {name.ljust(width)}  {what}", err=True)


def handle_command(line: str, state: ChatState, resolve: Callable[[str], str | None]) -> None:
    """Carry out one slash command on ``state`` (``resolve`` names a model or raises)."""
    from zero_llm.errors import ZeroLLMError

    word, _, rest = line.partition(" ")
    rest = rest.strip()
    if word in ("/exit", "/quit"):
        state.done = True
    elif word == "/help":
        _help()
    elif word == "/session":
        say(f"session {state.session_id}", err=True)
    elif word == "/think":
        state.think = rest.lower() not in ("off", "no", "false", "0")
        say(f"thinking: {'shown' if state.think else 'hidden (a status line instead)'}", err=True)
    elif word == "/task":
        state.task = rest or None
        say(f"task: {state.task or 'chosen from the text'}", err=True)
    elif word == "/model":
        try:
            state.model = None if rest in ("", "auto") else resolve(rest)
        except ZeroLLMError as exc:
            say(f"error: {exc}", err=True, style="red")
            return
        say(f"model: {state.model or 'routed'}", err=True)
    else:
        say(f"unknown command {word}: /help lists them (//text sends /text)", err=True, style="red")


def _turn(
    runner: asyncio.Runner, manager: ModelManager, line: str, state: ChatState, system: str
) -> None:
    """Answer one line; Ctrl-C stops the answer, a zero_llm error is one line."""
    from zero_llm.cli.ask import storage_problems, stream_answer, warn_unstored
    from zero_llm.cli.common import TERMINAL
    from zero_llm.errors import ZeroLLMError

    async def answer() -> None:
        result = await stream_answer(
            manager,
            line,
            task=state.task,
            model=state.model,
            context=system,
            session=state.session_id,
            think=state.think,
        )
        report_answer(result)
        problems = storage_problems(manager, result)
        warn_unstored(problems, TERMINAL)
        state.unstored += bool(problems)

    try:
        runner.run(answer())
    except KeyboardInterrupt:
        say("(answer stopped)", err=True, style="yellow")
    except ZeroLLMError as exc:
        say(f"error: {type(exc).__name__}: {exc}", err=True, style="red")


def chat(
    session: Annotated[
        str | None, typer.Option(help="Conversation to continue (default: a new one).")
    ] = None,
    system: Annotated[str, typer.Option(help="System message for every turn.")] = "",
    host: HostOption = None,
    think: Annotated[
        bool,
        typer.Option("--think", help="Show the model's thinking (deepseek-r1), dim, as it comes."),
    ] = False,
) -> None:
    """Talk with ZERO's models: line editing, /help, Ctrl-C stops an answer, Ctrl-D ends."""
    state = ChatState(session or datetime.now().strftime("chat-%Y%m%d-%H%M%S"), think=think)
    manager = manager_for(host)
    _enable_line_editing()
    # Ctrl-C must reach the chat even when started with SIGINT ignored (a background job):
    # asyncio.Runner turns it into "cancel this answer" only over Python's own handler.
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _talk(state, manager, system)
    finally:
        signal.signal(signal.SIGINT, before)
    if state.unstored:
        raise fail(
            f"{state.unstored} turn(s) of session {state.session_id} were not stored (see above)"
        )
    say(f"bye (session {state.session_id} is kept)", err=True)


def _talk(state: ChatState, manager: ModelManager, system: str) -> None:
    """The read-answer loop, on one event loop for the whole chat."""
    import asyncio

    with asyncio.Runner() as runner:

        def resolve(name: str) -> str:
            return runner.run(manager.resolve_model(name)).name

        say(f"session {state.session_id}: /help for commands, Ctrl-D to leave", err=True)
        try:
            while not state.done:
                try:
                    line = printable(input("you> ")).strip()
                except KeyboardInterrupt:  # at the prompt: a fresh line, as shells do
                    say("", err=True)
                    continue
                except EOFError:
                    say("", err=True)
                    break
                if not line:
                    continue
                if line.startswith("/") and not line.startswith("//"):
                    handle_command(line, state, resolve)
                    continue
                _turn(runner, manager, line.removeprefix("/"), state, system)
        finally:
            from zero_llm.errors import ZeroLLMError

            try:
                runner.run(manager.aclose())
            except ZeroLLMError as exc:
                raise fail_error(exc) from None
