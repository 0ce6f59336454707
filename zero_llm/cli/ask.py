"""The conversation commands: ``ask``, ``route`` and ``demo`` (``chat`` is in ``cli.chat``).

In: the question (argument or standard input), task or model, system text, session.
Out: the answer streamed on stdout, and on stderr the status line (and a fallback note
when another model answered). ``--json`` prints one JSON object instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from zero_llm.cli.common import (
    TERMINAL,
    HostOption,
    JsonOption,
    Output,
    echo_json,
    fail,
    json_text,
    manager_for,
    report_answer,
    run_with_manager,
    say,
)
from zero_llm.resident.request import AskRequest, NoQuestionError, build_request

if TYPE_CHECKING:
    from zero_llm.answer import Answer
    from zero_llm.cli.progress import StatusSink
    from zero_llm.manager import ModelManager

__all__ = [
    "ThinkingShown",
    "answer_in_process",
    "answer_request",
    "ask",
    "demo",
    "model_to_pull",
    "pull_first",
    "route",
    "storage_problems",
    "stream_answer",
    "warn_unstored",
]

SessionOption = Annotated[
    str | None, typer.Option(help="Remember the turn in this conversation (and use its past).")
]


async def stream_answer(
    manager: ModelManager,
    text: str,
    *,
    task: str | None = None,
    model: str | None = None,
    context: str = "",
    stream: bool = True,
    output: Output | None = TERMINAL,
    session: str | None = None,
    status: StatusSink | None = TERMINAL,
    think: bool = False,
) -> Answer:
    """Ask (routed, or ``model``), print the answer as it comes to ``output``, return it.

    Until the first text, ``status`` shows what the question waits for (a pull, a load,
    a queue, the model's thinking) with the seconds waited. With ``think`` the model's
    thinking itself is shown instead, as it comes (``output.think``: stderr, dim on a
    terminal), and the answer follows it.
    """
    from zero_llm.answer import AnswerStream
    from zero_llm.cli.progress import showing_status, waiting_text

    sink: StatusSink = status if status is not None else _QUIET
    shown = ThinkingShown(output, sink) if think and output is not None else None
    if status is not None and _may_draw(status):
        await pull_first(manager, sink, text=text, task=task, model=model, session=session)
    async with showing_status(sink, lambda elapsed, event: waiting_text(None, elapsed, event)):
        if model is not None:
            result = await manager.query_model(model, text, context, stream, session_id=session)
        else:
            result = await manager.ask(
                text, task=task, context=context, stream=stream, session_id=session
            )
    if isinstance(result, AnswerStream):
        if shown is not None:
            result.on_thinking = shown
        chunks = aiter(result)
        try:
            trace = result.trace
            async with showing_status(
                shown or sink,
                lambda elapsed, event: waiting_text(
                    trace, elapsed, event, manager.residency_state()
                ),
            ):
                first = await anext(chunks, None)
            if shown is not None:
                shown.end()
            if first is not None and output is not None:
                output.out(first)
            async for chunk in chunks:
                if output is not None:
                    output.out(chunk)
        finally:  # a reader that fails (a closed pipe) or a cancel ends the request cleanly
            await result.aclose()
        answer = result.answer
        assert answer is not None
        if output is not None:
            output.out("\n")
    else:
        answer = result
        if shown is not None and answer.thinking:
            shown(answer.thinking)
            shown.end()
        if output is not None:
            output.out(answer.text + "\n")
    await manager.flush_usage()
    return answer


def _may_draw(status: StatusSink) -> bool:
    """Whether ``status`` may show anything (a terminal, or a client that may have one)."""
    from zero_llm.cli.progress import STATUS

    return status is not TERMINAL or STATUS.enabled()


async def model_to_pull(
    manager: ModelManager,
    *,
    text: str,
    task: str | None = None,
    model: str | None = None,
    session: str | None = None,
) -> str | None:
    """The model a question will go to, if that is certain before the call and it is missing.

    Certain: a model named, an explicit task, or a question routed in a new conversation
    (no sticky model) by the classifier alone, all with one Ollama host and ``auto_pull`` on.
    Else None: the call pulls what it needs itself (its status line says so, without bytes).
    """
    from zero_llm.errors import ZeroLLMError

    settings = manager.settings
    if not settings.auto_pull or len(settings.host_list()) > 1:
        return None
    try:
        if model is not None:
            name = (await manager.resolve_model(model)).name
        elif task is not None:
            name = manager.route(text, task=task).model
        elif settings.routing.llm_second_stage:
            return None
        elif session is not None and await manager.history.session(session) is not None:
            return None  # a conversation's model may stick: only the call knows
        else:
            name = manager.route(text).model
        present = await manager.backend.present_models()
    except ZeroLLMError:
        return None  # the call itself says what is wrong
    return None if name in present else name


async def pull_first(
    manager: ModelManager,
    status: StatusSink,
    *,
    text: str,
    task: str | None = None,
    model: str | None = None,
    session: str | None = None,
) -> None:
    """Pull the question's model first when it is missing, its bytes drawn on ``status``."""
    from zero_llm.cli.progress import PullStatus

    name = await model_to_pull(manager, text=text, task=task, model=model, session=session)
    if name is not None:
        try:
            await manager.pull_model(name, PullStatus(name, status))
        finally:
            status.status(None)


class ThinkingShown:
    """Shows a model's thinking on ``output`` as it comes (``--think``), framed as Ollama does.

    It is also the status sink of the wait: the status line is drawn until the thinking
    starts, then wiped and left alone (the thinking is the sign of life from there).
    """

    def __init__(self, output: Output, sink: StatusSink) -> None:
        """Thinking to ``output``; status lines to ``sink`` until the thinking starts."""
        self.output = output
        self.sink = sink
        self.started = False
        self.ended = False

    def status(self, text: str | None) -> None:
        """Show ``text`` on the status line, unless the thinking has started."""
        if not self.started:
            self.sink.status(text)

    def __call__(self, piece: str) -> None:
        """Show one piece of thinking (the first after a ``Thinking...`` line)."""
        if not self.started:
            self.sink.status(None)
            self.started = True
            self.output.think("Thinking...\n")
        self.output.think(piece)

    def end(self) -> None:
        """Close the thinking shown (if any) before the answer's text."""
        if self.started and not self.ended:
            self.ended = True
            self.output.think("\n...done thinking.\n\n")


def storage_problems(manager: ModelManager, answer: Answer) -> list[str]:
    """What of an answered call could not be stored: its turn, its usage record."""
    problems = []
    if answer.trace.history_error:
        problems.append(f"the turn was not stored: {answer.trace.history_error}")
    if manager.settings.usage_ledger and manager.usage_recorder.lost(answer.trace.request_id):
        problems.append("its usage record was not stored (see the log for why)")
    return problems


def warn_unstored(problems: list[str], output: Output) -> None:
    """One warning line per storage problem of an answer shown anyway."""
    for problem in problems:
        output.err(f"warning: the answer above was shown but {problem}", "yellow")


class _NoStatus:
    """A status sink that shows nothing."""

    def status(self, text: str | None) -> None:
        """Show nothing."""


_QUIET = _NoStatus()


async def answer_request(manager: ModelManager, request: AskRequest, output: Output) -> Answer:
    """Answer one ``ask`` to ``output``: the streamed text and status lines, or one JSON."""
    session = request.session
    if request.continue_last:  # -c: the most recent conversation, or a new one
        from zero_llm.resident.request import new_session_id

        latest = await manager.history.sessions(limit=1)
        session = latest[0].id if latest else new_session_id()
    answer = await stream_answer(
        manager,
        request.question,
        task=request.task,
        model=request.model,
        context=request.system,
        stream=request.stream,
        output=None if request.as_json else output,
        session=session,
        status=output,
        think=request.think,
    )
    if request.as_json:
        output.out(json_text({"answer": answer.text, **answer.trace.metadata()}) + "\n")
    else:
        report_answer(answer, output)
    problems = storage_problems(manager, answer)
    if problems:  # the answer stands, but the command must not say all went well
        from zero_llm.errors import StorageError

        raise StorageError("; ".join(f"the answer above was shown but {p}" for p in problems))
    return answer


def answer_in_process(request: AskRequest) -> int:
    """Answer one ``ask`` in this process (no resident process); the exit code."""
    try:
        run_with_manager(lambda m: answer_request(m, request, TERMINAL), request.host)
    except typer.Exit as exc:
        return exc.exit_code
    return 0


def ask(
    text: Annotated[
        str | None,
        typer.Argument(help="The question; none or '-': read it from standard input."),
    ] = None,
    task: Annotated[str | None, typer.Option(help="Task type: code, trading, quick, ...")] = None,
    model: Annotated[str | None, typer.Option(help="Ask this model, bypassing routing.")] = None,
    session: SessionOption = None,
    system: Annotated[str, typer.Option(help="System message: instructions for the model.")] = "",
    context: Annotated[
        str, typer.Option(help="Material for the question (piped text is added to it).")
    ] = "",
    no_stream: Annotated[bool, typer.Option("--no-stream", help="Print the answer whole.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    host: HostOption = None,
    continue_last: Annotated[
        bool, typer.Option("--continue", "-c", help="Continue the latest conversation.")
    ] = False,
    no_log: Annotated[
        bool, typer.Option("--no-log", help="Remember nothing of this question.")
    ] = False,
    think: Annotated[
        bool,
        typer.Option(
            "--think", help="Show the model's thinking (deepseek-r1) on stderr, dim, as it comes."
        ),
    ] = False,
) -> None:
    """Ask a question; the router picks the model unless --model says which.

    Piped text with a question becomes its context: cat error.log | zero-llm ask "explain".
    Run from the command line, a resident process answers (started by the first ask,
    gone after resident_idle_s; ZERO_LLM_RESIDENT_ASK=false to answer in process).
    Every question is remembered in a conversation of its own (zero-llm logs lists
    them); -c continues the latest one; --no-log remembers nothing.
    """
    options = {
        "text": text,
        "task": task,
        "model": model,
        "session": session,
        "system": system,
        "context": context,
        "no_stream": no_stream,
        "as_json": as_json,
        "host": host,
        "continue_last": continue_last,
        "no_log": no_log,
        "think": think,
    }
    try:
        request = build_request(options)
    except NoQuestionError as exc:
        raise fail(str(exc)) from None
    run_with_manager(lambda manager: answer_request(manager, request, TERMINAL), host)


def route(
    text: Annotated[str, typer.Argument(help="The request text.")],
    task: Annotated[str | None, typer.Option(help="An explicit task type.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show which model would answer, and why, without calling any model."""
    from dataclasses import asdict

    from zero_llm.errors import ZeroLLMError
    from zero_llm.routing.router import route as decide
    from zero_llm.settings import load_settings

    # The settings and the router only: no manager, no LangChain, no client (fast).
    try:
        settings = load_settings()
        if not text.strip() and task is None:
            raise fail("InvalidRequestError: text cannot be empty")
        decision = decide(
            settings.catalog(),
            task=task,
            text=text,
            threshold=settings.routing.confidence_threshold,
            switch_threshold=settings.routing.switch_threshold,
        )
    except ZeroLLMError as exc:
        raise fail(str(exc)) from None
    if as_json:
        echo_json(asdict(decision))
        return
    say(f"{decision.model}  (task={decision.task}, role={decision.role})")
    say(f"reason: {decision.reason}")


def demo(
    text: Annotated[str, typer.Argument(help="The question.")] = (
        "Why might a rising dollar hurt $AAPL, and what is the risk for a long position?"
    ),
    host: HostOption = None,
) -> None:
    """Ask a routed, streamed question: to Ollama if reachable, else to the built-in emulator."""
    from zero_llm.cli.emulate import emulator_class
    from zero_llm.errors import OllamaUnavailableError
    from zero_llm.manager import ModelManager

    manager = manager_for(host)

    async def version(manager: ModelManager) -> str | None:
        try:
            return await manager.backend.version()
        except OllamaUnavailableError:
            return None

    found = run_with_manager(version, manager=manager)
    if found is not None:
        say(f"Ollama {found} at {manager.settings.ollama_base_url}", err=True)
        _demo_ask(manager, text)
        return
    emulator = emulator_class()
    say(
        f"No Ollama at {manager.settings.ollama_base_url}: answering with zero_llm's built-in "
        "emulator. THE ANSWER BELOW IS EMULATED, not written by a model.",
        err=True,
    )
    from zero_llm.emulated import mark_emulated, unmark_emulated

    with emulator() as served:
        mark_emulated(served.base_url)  # its usage record says so; summaries leave it out
        try:
            _demo_ask(ModelManager(manager.settings, ollama_host=served.base_url), text)
        finally:
            unmark_emulated(served.base_url)


def _demo_ask(manager: ModelManager, text: str) -> None:
    decision = manager.route(text)
    say(f"route: {decision.model} ({decision.reason})", err=True, style="dim")

    async def asked(manager: ModelManager) -> tuple[Answer, list[str]]:
        answer = await stream_answer(manager, text)
        return answer, storage_problems(manager, answer)

    answer, problems = run_with_manager(asked, manager=manager)
    report_answer(answer)
    if problems:
        warn_unstored(problems, TERMINAL)
        raise typer.Exit(1)
