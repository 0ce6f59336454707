"""The one exception boundary between Ollama (and the road to it) and zero_llm.

In: an exception raised by ``httpx``, the ``ollama`` client or the stream parser.
Out: the ``ZeroLLMError`` subclass it means, or ``None`` when it is none of theirs:
our own bugs and a changed library must propagate as they are, not dressed up as an
Ollama failure.
"""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import ollama

from zero_llm.errors import (
    ContextOverflowError,
    ModelNotFoundError,
    OllamaBusyError,
    OllamaRequestError,
    OllamaServerError,
    OllamaTimeoutError,
    OllamaUnavailableError,
    ToolsNotSupportedError,
    ZeroLLMError,
)

__all__ = ["translate_error", "translate_pull_error"]

_REFUSED_OPTION = re.compile(r'option "[^"]*" must be of')
_BROKEN_CONNECTION = (httpx.RemoteProtocolError, httpx.ReadError)
_UNREACHABLE = (ConnectionError, httpx.ConnectError, httpx.WriteError, httpx.CloseError)


def _response_error(exc: ollama.ResponseError, model: str | None, where: str) -> ZeroLLMError:
    status = exc.status_code
    text = exc.error or str(exc)
    if status == 404 or ("not found" in text and status in (-1, 500)):
        return ModelNotFoundError(
            f"model {model!r} is not present in Ollama{where}: pull it "
            f"(`ollama pull {model}` or `zero-llm pull {model}`) or enable auto_pull",
            model=model,
            status_code=status,
        )
    if status in (429, 503):
        return OllamaBusyError(
            f"Ollama is busy ({status}): {text}", model=model, status_code=status
        )
    if status == 400 and "does not support tools" in text:
        return ToolsNotSupportedError(
            f"{model!r} does not support tools (Ollama{where} said: {text})", model=model
        )
    if status == 400 and "context length" in text:
        return ContextOverflowError(
            f"Ollama refused a prompt longer than {model!r}'s context window: {text}",
            needed=None,
            budget=None,
        )
    if status >= 500 and _REFUSED_OPTION.search(text):
        # Options.FromMap's answer to a wrongly typed option: a 500 no retry can mend
        return OllamaRequestError(
            f"Ollama refused an option ({status}): {text}", model=model, status_code=status
        )
    if status == -1 or status >= 500:
        return OllamaServerError(
            f"Ollama failed ({status}): {text}",
            model=model,
            status_code=None if status == -1 else status,
        )
    return OllamaRequestError(
        f"Ollama rejected the request ({status}): {text}", model=model, status_code=status
    )


def translate_error(
    exc: BaseException, *, model: str | None = None, host: str = ""
) -> ZeroLLMError | None:
    """The zero_llm error an exception of httpx, ollama or the wire means; None if none.

    ``None`` means the exception is not a transport or Ollama failure (a bug of ours, a
    changed library, a cancelled task): the caller re-raises it unchanged.
    """
    if isinstance(exc, ZeroLLMError):
        return exc
    where = f" at {host}" if host else ""
    if isinstance(exc, ollama.ResponseError):
        return _response_error(exc, model, where)
    if isinstance(exc, httpx.TimeoutException | TimeoutError | asyncio.TimeoutError):
        return OllamaTimeoutError(f"Ollama{where} did not answer in time: {exc!r}", model=model)
    if isinstance(exc, _BROKEN_CONNECTION):
        return OllamaServerError(f"the connection to Ollama{where} broke: {exc}", model=model)
    if isinstance(exc, _UNREACHABLE):
        return OllamaUnavailableError(
            f"cannot reach Ollama{where}: {exc}. Is it running? Start it with `ollama serve` "
            "or point OLLAMA_HOST at it",
            model=model,
        )
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
        return OllamaServerError(f"Ollama{where} sent a malformed line: {exc}", model=model)
    if isinstance(exc, httpx.HTTPError):
        return OllamaServerError(f"HTTP error talking to Ollama{where}: {exc}", model=model)
    return None


def translate_pull_error(exc: BaseException, *, model: str, host: str = "") -> ZeroLLMError | None:
    """Like ``translate_error`` for a pull: a name Ollama cannot find says to check it."""
    if isinstance(exc, ollama.ResponseError):
        text = exc.error or str(exc)
        status = exc.status_code
        unknown = status in (400, 404) or (
            status in (-1, 500) and ("not found" in text or "file does not exist" in text)
        )
        if unknown:
            return ModelNotFoundError(
                f"Ollama{' at ' + host if host else ''} cannot pull {model!r}: {text}. "
                "Check the name and tag (see https://ollama.com/library)",
                model=model,
                status_code=status,
            )
    return translate_error(exc, model=model, host=host)
