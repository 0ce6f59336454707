"""One ``zero-llm ask``, as plain data: read from the command line and standard input.

In: ``ask``'s arguments and standard input. Out: an ``AskRequest``, which both the
in-process command and the resident process answer, so the two cannot drift apart.
Standard library only: the thin client imports this before anything heavy.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # not typing's: the thin client does not import typing at all
if TYPE_CHECKING:
    from typing import IO, Any

__all__ = [
    "AskRequest",
    "NoQuestionError",
    "build_request",
    "join_context",
    "new_session_id",
    "parse_ask_args",
    "read_question",
]

_VALUE_OPTIONS = ("task", "model", "session", "system", "context", "host")
_FLAG_OPTIONS = {
    "--no-stream": "no_stream",
    "--json": "as_json",
    "--continue": "continue_last",
    "-c": "continue_last",
    "--no-log": "no_log",
    "--think": "think",
}


class NoQuestionError(ValueError):
    """Neither the command line nor standard input held a question."""


class AskRequest:
    """What one ``ask`` asks: the question, its system text, and how to answer it."""

    __slots__ = (
        "as_json",
        "continue_last",
        "host",
        "model",
        "question",
        "session",
        "stream",
        "system",
        "task",
        "think",
    )

    def __init__(
        self,
        question: str,
        system: str = "",
        task: str | None = None,
        model: str | None = None,
        session: str | None = None,
        stream: bool = True,
        as_json: bool = False,
        host: str | None = None,
        continue_last: bool = False,
        think: bool = False,
    ) -> None:
        """A request; ``system`` joins ``--system``, ``--context`` and the piped text.

        ``continue_last``: answer in the most recent conversation (``ask -c``);
        ``think``: show the model's thinking as it comes (``ask --think``).
        """
        self.question = question
        self.system = system
        self.task = task
        self.model = model
        self.session = session
        self.stream = stream
        self.as_json = as_json
        self.host = host
        self.continue_last = continue_last
        self.think = think

    def to_wire(self) -> dict[str, Any]:
        """The request as a JSON-ready dict."""
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_wire(cls, data: Any) -> AskRequest:
        """Rebuild a request from ``to_wire``'s dict; ``ValueError`` naming a bad field.

        Unknown keys, a missing question and a field of the wrong type are refused here,
        before anything is asked (a ``"stream": "no"`` was answered, and then its usage
        record was refused by the database).
        """
        if not isinstance(data, dict):
            raise ValueError(f"an ask must be a JSON object, got {type(data).__name__}")
        unknown = set(data) - set(cls.__slots__)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        for name, kinds in _WIRE_TYPES.items():
            if name in data and not isinstance(data[name], kinds):
                raise ValueError(f"{name} has the wrong type ({type(data[name]).__name__})")
        if "question" not in data:
            raise ValueError("the ask has no question")
        return cls(**data)

    def __eq__(self, other: object) -> bool:
        """Requests are equal when every field is."""
        return isinstance(other, AskRequest) and self.to_wire() == other.to_wire()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """The fields, as a constructor call."""
        fields = ", ".join(f"{k}={v!r}" for k, v in self.to_wire().items())
        return f"AskRequest({fields})"


_WIRE_TYPES: dict[str, type | tuple[type, ...]] = {
    "question": str,
    "system": str,
    "task": (str, type(None)),
    "model": (str, type(None)),
    "session": (str, type(None)),
    "stream": bool,
    "as_json": bool,
    "host": (str, type(None)),
    "continue_last": bool,
    "think": bool,
}
"""The type each field of an ask must have on the wire."""


def join_context(*parts: str) -> str:
    """The system message: the non-empty parts, in order, separated by a blank line."""
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def read_question(text: str | None, stdin: IO[str] | None = None) -> tuple[str, str]:
    """The question and the piped context, from the argument and standard input.

    No argument (or ``-``): the question is what was piped. An argument with piped
    text: the argument is the question and the piped text its context.
    """
    stream = stdin if stdin is not None else sys.stdin
    wants_stdin = text is None or text == "-"
    piped = ""
    if stream is not None and (wants_stdin or not stream.isatty()):
        piped = stream.read()
    if wants_stdin:
        if not piped.strip():
            raise NoQuestionError(
                "no question: give it as an argument or pipe it on standard input"
            )
        return piped.strip(), ""
    assert text is not None
    return text, piped.strip()


def parse_ask_args(args: list[str]) -> dict[str, Any] | None:
    """``ask``'s options as a dict, or None for anything else (help, a typo, a stray option).

    None sends the command line to the full CLI, which answers it or says what is wrong.
    """
    found: dict[str, Any] = {}
    positional: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg == "--":
            positional.extend(rest)
            break
        if arg in _FLAG_OPTIONS:
            found[_FLAG_OPTIONS[arg]] = True
            continue
        if arg.startswith("--"):
            name, equals, value = arg[2:].partition("=")
            if name not in _VALUE_OPTIONS:
                return None
            if not equals:
                following = next(rest, None)
                if following is None:
                    return None
                value = following
            found[name] = value
            continue
        if arg.startswith("-") and arg != "-":
            return None
        positional.append(arg)
    if len(positional) > 1:
        return None
    found["text"] = positional[0] if positional else None
    return found


def new_session_id() -> str:
    """A fresh conversation id for one ``ask`` (``ask-20261205-071403-1a2b3c``)."""
    import os
    import time

    return time.strftime("ask-%Y%m%d-%H%M%S-") + os.urandom(3).hex()


def build_request(options: dict[str, Any], stdin: IO[str] | None = None) -> AskRequest:
    """The request of parsed ``ask`` options (reads standard input when it should).

    Every ask is remembered (``zero-llm logs`` lists it): without ``--session`` in a
    conversation of its own, with ``-c`` in the latest one; ``--no-log`` remembers nothing.
    """
    question, piped = read_question(options.get("text"), stdin)
    session = options.get("session")
    continue_last = bool(options.get("continue_last")) and session is None
    if session is None and not continue_last and not options.get("no_log"):
        session = new_session_id()
    return AskRequest(
        question=question,
        system=join_context(options.get("system") or "", options.get("context") or "", piped),
        task=options.get("task"),
        model=options.get("model"),
        session=session,
        stream=not options.get("no_stream", False),
        as_json=bool(options.get("as_json", False)),
        host=options.get("host"),
        continue_last=continue_last,
        think=bool(options.get("think", False)),
    )
