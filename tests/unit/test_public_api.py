"""The public surface is curated, pinned, and importing it does nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import zero_llm
import zero_llm.errors as errors

PINNED = [
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


def test_all_is_pinned_and_sorted() -> None:
    assert zero_llm.__all__ == PINNED
    assert (
        sorted(zero_llm.__all__, key=str.casefold) == zero_llm.__all__
        or sorted(zero_llm.__all__) == zero_llm.__all__
    )
    for name in zero_llm.__all__:
        assert hasattr(zero_llm, name), name


def test_every_error_is_a_zero_llm_error() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ZeroLLMError), name


def test_import_has_no_side_effects(tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = textwrap.dedent("""
        import os, threading, sys
        before = set(os.listdir('.'))
        threads = threading.active_count()
        import zero_llm, zero_llm.testing
        assert set(os.listdir('.')) == before, 'import created files'
        assert threading.active_count() == threads, 'import started threads'
        assert 'zero_llm.sync_bridge' not in sys.modules or zero_llm.sync_bridge._shared is None
        print('clean')
    """)
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "ZERO_LLM_CONTEXT_WINDOW": "nonsense"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"
    assert not (tmp_path / ".zero_llm").exists()


def test_public_functions_are_documented() -> None:
    import inspect

    for name in zero_llm.__all__:
        obj = getattr(zero_llm, name)
        if inspect.isclass(obj):
            assert obj.__doc__, name
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and inspect.isfunction(member):
                    assert member.__doc__, f"{name}.{attr}"


def test_import_is_lazy_and_light(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``import zero_llm`` pulls in none of the heavy libraries; a public name does."""
    script = textwrap.dedent("""
        import sys
        import zero_llm
        heavy = ('langchain_core', 'langchain_ollama', 'ollama', 'httpx', 'sqlalchemy',
                 'tiktoken', 'pydantic', 'typer', 'rich')
        print(sorted(m for m in heavy if m in sys.modules))
        zero_llm.ModelManager
        print('langchain_core' in sys.modules)
    """)
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "True"]


def test_unknown_name_is_an_attribute_error() -> None:
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        zero_llm.NoSuchThing  # noqa: B018
    assert "ModelManager" in dir(zero_llm)
