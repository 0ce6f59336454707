"""The one error tree of zero_llm.

Every error this package raises on purpose is a ``ZeroLLMError``. Errors of the
libraries below us (``httpx``, ``ollama.ResponseError``, SQLAlchemy) are translated
at the boundary with ``raise ... from exc`` so that callers catch one family::

    ZeroLLMError
    ├── ConfigurationError            settings or catalog that cannot work (also ValueError)
    │   └── UnknownModelError         a model name the catalog does not know (also LookupError)
    ├── InvalidRequestError           bad input from the caller; nothing was sent (also ValueError)
    ├── OllamaError                   anything Ollama (or the road to it) did wrong
    │   ├── TransientOllamaError      worth retrying: the retry policy reads only this class
    │   │   ├── OllamaUnavailableError    connection refused / reset, server not reachable
    │   │   ├── OllamaTimeoutError        connect, first-token, stall or total deadline passed
    │   │   ├── OllamaServerError         5xx, a crashed runner, an error line mid-stream,
    │   │   │                             a malformed stream line
    │   │   └── OllamaBusyError           503 "server busy", 429
    │   ├── ModelNotFoundError        the model is not present in Ollama: pull it (also LookupError)
    │   ├── OllamaRequestError        Ollama refused the request (4xx other than 404/429)
    │   │   └── ToolsNotSupportedError    tools sent to a model without the tools capability
    │   ├── StreamInterruptedError    a stream broke after text was yielded (has partial_text)
    │   └── AnswerTooLongError        an answer past max_answer_chars: cut off, never stored
    ├── ContextOverflowError          even the system prompt and the question exceed the window
    ├── StructuredOutputError         an answer is not the JSON its schema asks for, even repaired
    ├── SyncCallInEventLoopError      a sync method called inside a running loop: await its twin
    ├── EnteredOnAnotherLoopError     ``async with`` on a second loop while a first holds it
    └── StorageError                  the SQL store failed (history, usage)

``RetriesExhaustedError`` is not a separate class: after the last attempt the last
transient error itself is raised, with ``attempts`` set on it.
"""

from __future__ import annotations

__all__ = [
    "AnswerTooLongError",
    "ConfigurationError",
    "ContextOverflowError",
    "EnteredOnAnotherLoopError",
    "InvalidRequestError",
    "ModelNotFoundError",
    "OllamaBusyError",
    "OllamaError",
    "OllamaRequestError",
    "OllamaServerError",
    "OllamaTimeoutError",
    "OllamaUnavailableError",
    "StorageError",
    "StreamInterruptedError",
    "StructuredOutputError",
    "SyncCallInEventLoopError",
    "ToolsNotSupportedError",
    "TransientOllamaError",
    "UnknownModelError",
    "ZeroLLMError",
]


class ZeroLLMError(Exception):
    """Root of every error zero_llm raises."""


class ConfigurationError(ZeroLLMError, ValueError):
    """The settings or the model catalog cannot work as given."""


class UnknownModelError(ConfigurationError, LookupError):
    """A model name, alias or role the catalog does not know; nothing was sent to Ollama.

    Attributes:
        model: the name that was asked for.
        known: the catalog's model names.
    """

    def __init__(self, message: str, *, model: str, known: tuple[str, ...]) -> None:
        super().__init__(message)
        self.model = model
        self.known = known


class InvalidRequestError(ZeroLLMError, ValueError):
    """The caller's input is not acceptable; nothing was sent to Ollama."""


class OllamaError(ZeroLLMError):
    """Ollama, or the connection to it, failed.

    Attributes:
        model: the model the request was for, when known.
        status_code: the HTTP status Ollama answered with, when there was one.
        attempts: how many attempts were made before this error was raised.
    """

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        status_code: int | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.model = model
        self.status_code = status_code
        self.attempts = attempts


class TransientOllamaError(OllamaError):
    """A failure that may pass by itself: the only kind the retry policy retries."""


class OllamaUnavailableError(TransientOllamaError):
    """Ollama could not be reached (connection refused or reset)."""


class OllamaTimeoutError(TransientOllamaError):
    """A deadline passed: connect, first token, stall between chunks, or total."""


class OllamaServerError(TransientOllamaError):
    """Ollama failed on its side: a 5xx, a crashed runner, a broken stream."""


class OllamaBusyError(TransientOllamaError):
    """Ollama is overloaded (503 "server busy") or rate-limits us (429)."""


class ModelNotFoundError(OllamaError, LookupError):
    """The model is not present in Ollama; pull it first (a catalog miss is UnknownModelError)."""


class OllamaRequestError(OllamaError):
    """Ollama rejected the request as invalid (a 4xx); retrying cannot help."""


class ToolsNotSupportedError(OllamaRequestError):
    """Tools were sent to a model that lacks Ollama's ``tools`` capability (a 400)."""


class AnswerTooLongError(OllamaError):
    """The model's answer grew past ``max_answer_chars``; it was cut off and not stored."""


class StreamInterruptedError(OllamaError):
    """A stream broke after text had been yielded; ``partial_text`` holds what arrived."""

    def __init__(
        self,
        message: str,
        *,
        partial_text: str,
        model: str | None = None,
        status_code: int | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, model=model, status_code=status_code, attempts=attempts)
        self.partial_text = partial_text


class ContextOverflowError(ZeroLLMError):
    """The request cannot fit the model's context window even after trimming.

    Attributes:
        needed: tokens the irreducible part of the request needs (None: Ollama said so).
        budget: tokens the window allows for the prompt (None: Ollama said so).
    """

    def __init__(self, message: str, *, needed: int | None, budget: int | None) -> None:
        super().__init__(message)
        self.needed = needed
        self.budget = budget


class StructuredOutputError(ZeroLLMError):
    """A model's answer does not parse as the requested structure, even after a repair.

    Attributes:
        raw: the last answer text received.
    """

    def __init__(self, message: str, *, raw: str) -> None:
        super().__init__(message)
        self.raw = raw


class SyncCallInEventLoopError(ZeroLLMError, RuntimeError):
    """A sync method was called inside a running event loop, which it would block.

    The message names the async method to ``await`` instead. Jupyter's kernel loop is the
    one exception: there sync calls work.
    """


class EnteredOnAnotherLoopError(ZeroLLMError, RuntimeError):
    """A manager was entered (``async with``) on one event loop while another loop holds it.

    Inside ``async with`` a manager's connections belong to the loop that entered it; leave
    the block there first, or build a second manager for the other loop.
    """


class StorageError(ZeroLLMError):
    """The SQL store (conversation history or usage ledger) failed."""
