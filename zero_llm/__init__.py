"""zero_llm: ZERO's model manager for local LLMs on Ollama.

Routes each request to the right model, makes sure the model is present and loaded,
keeps the conversation inside its context window, retries what is worth retrying,
streams answers and records what every call cost. Importing this package does nothing
else: no client, no environment read, no database file.
"""

from zero_llm.answer import Answer, AnswerStream, CallTrace
from zero_llm.backend import LoadedModel, PullProgress
from zero_llm.catalog import ModelSpec
from zero_llm.errors import (
    ConfigurationError,
    ContextOverflowError,
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
    TransientOllamaError,
    UnknownModelError,
    ZeroLLMError,
)
from zero_llm.manager import LoadResult, ModelManager, SyncAnswerStream
from zero_llm.router import RouteDecision
from zero_llm.settings import RetrySettings, TimeoutSettings, ZeroLLMSettings

__version__ = "0.1.0"

__all__ = [
    "Answer",
    "AnswerStream",
    "CallTrace",
    "ConfigurationError",
    "ContextOverflowError",
    "InvalidRequestError",
    "LoadResult",
    "LoadedModel",
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
    "StorageError",
    "StreamInterruptedError",
    "StructuredOutputError",
    "SyncAnswerStream",
    "SyncCallInEventLoopError",
    "TimeoutSettings",
    "TransientOllamaError",
    "UnknownModelError",
    "ZeroLLMError",
    "ZeroLLMSettings",
    "__version__",
]
