"""zero_llm: ZERO's model manager for local LLMs on Ollama.

Routes each request to the right model, makes sure the model is present and loaded,
keeps the conversation inside its context window, retries what is worth retrying,
streams answers and records what every call cost. Importing this package does nothing
else: no client, no environment read, no database file, and no heavy import either:
each public name is imported from its module on first use (PEP 562 ``__getattr__``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zero_llm.lazy_names import import_lazily

if TYPE_CHECKING:  # the names as type checkers and IDEs see them
    from zero_llm.answer import Answer, AnswerStream, CallTrace
    from zero_llm.catalog import ModelSpec
    from zero_llm.chat_model import ZeroChatModel
    from zero_llm.errors import (
        AnswerTooLongError,
        ConfigurationError,
        ContextOverflowError,
        EnteredOnAnotherLoopError,
        InvalidRequestError,
        ModelNotFoundError,
        OllamaBusyError,
        OllamaError,
        OllamaRequestError,
        OllamaServerError,
        OllamaTimeoutError,
        OllamaUnavailableError,
        StorageError,
        StreamInterruptedError,
        StructuredOutputError,
        SyncCallInEventLoopError,
        ToolsNotSupportedError,
        TransientOllamaError,
        UnknownModelError,
        ZeroLLMError,
    )
    from zero_llm.manager import LoadResult, ModelManager
    from zero_llm.ollama.client import LoadedModel, PullProgress
    from zero_llm.routing.router import RouteDecision
    from zero_llm.runtime import Runtime, build_runtime
    from zero_llm.settings import (
        HostSettings,
        MemorySettings,
        RetrySettings,
        RoutingSettings,
        TimeoutSettings,
        ZeroLLMSettings,
    )
    from zero_llm.sync_twins import SyncAnswerStream

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Answer": "zero_llm.answer",
    "AnswerStream": "zero_llm.answer",
    "AnswerTooLongError": "zero_llm.errors",
    "CallTrace": "zero_llm.answer",
    "ConfigurationError": "zero_llm.errors",
    "ContextOverflowError": "zero_llm.errors",
    "HostSettings": "zero_llm.settings",
    "InvalidRequestError": "zero_llm.errors",
    "LoadResult": "zero_llm.manager",
    "LoadedModel": "zero_llm.ollama.client",
    "MemorySettings": "zero_llm.settings",
    "ModelManager": "zero_llm.manager",
    "ModelNotFoundError": "zero_llm.errors",
    "ModelSpec": "zero_llm.catalog",
    "OllamaBusyError": "zero_llm.errors",
    "OllamaError": "zero_llm.errors",
    "OllamaRequestError": "zero_llm.errors",
    "OllamaServerError": "zero_llm.errors",
    "OllamaTimeoutError": "zero_llm.errors",
    "OllamaUnavailableError": "zero_llm.errors",
    "PullProgress": "zero_llm.ollama.client",
    "RetrySettings": "zero_llm.settings",
    "RouteDecision": "zero_llm.routing.router",
    "RoutingSettings": "zero_llm.settings",
    "Runtime": "zero_llm.runtime",
    "StorageError": "zero_llm.errors",
    "EnteredOnAnotherLoopError": "zero_llm.errors",
    "StreamInterruptedError": "zero_llm.errors",
    "StructuredOutputError": "zero_llm.errors",
    "SyncAnswerStream": "zero_llm.sync_twins",
    "TimeoutSettings": "zero_llm.settings",
    "ToolsNotSupportedError": "zero_llm.errors",
    "TransientOllamaError": "zero_llm.errors",
    "UnknownModelError": "zero_llm.errors",
    "SyncCallInEventLoopError": "zero_llm.errors",
    "ZeroChatModel": "zero_llm.chat_model",
    "ZeroLLMError": "zero_llm.errors",
    "ZeroLLMSettings": "zero_llm.settings",
    "build_runtime": "zero_llm.runtime",
}
"""Each public name and the module that defines it."""

__all__ = [
    "Answer",
    "AnswerStream",
    "AnswerTooLongError",
    "CallTrace",
    "ConfigurationError",
    "ContextOverflowError",
    "EnteredOnAnotherLoopError",
    "HostSettings",
    "InvalidRequestError",
    "LoadResult",
    "LoadedModel",
    "MemorySettings",
    "ModelManager",
    "ModelNotFoundError",
    "ModelSpec",
    "OllamaBusyError",
    "OllamaError",
    "OllamaRequestError",
    "OllamaServerError",
    "OllamaTimeoutError",
    "OllamaUnavailableError",
    "PullProgress",
    "RetrySettings",
    "RouteDecision",
    "RoutingSettings",
    "Runtime",
    "StorageError",
    "StreamInterruptedError",
    "StructuredOutputError",
    "SyncAnswerStream",
    "SyncCallInEventLoopError",
    "TimeoutSettings",
    "ToolsNotSupportedError",
    "TransientOllamaError",
    "UnknownModelError",
    "ZeroChatModel",
    "ZeroLLMError",
    "ZeroLLMSettings",
    "__version__",
    "build_runtime",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use, then keep it here."""
    return import_lazily(name, __name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    """The module's names, the lazy public ones included."""
    return sorted({*globals(), *__all__})
