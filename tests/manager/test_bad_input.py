"""Bad input, generated: only ZeroLLMError subclasses escape, with a clear message;
nothing stored is corrupted; nothing reaches Ollama that it would reject."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import fast_settings
from zero_llm import (
    ContextOverflowError,
    InvalidRequestError,
    ModelManager,
    ModelNotFoundError,
    UnknownModelError,
    ZeroLLMError,
)
from zero_llm.testing import OllamaEmulator

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
any_text = st.text(alphabet=st.characters(), max_size=300)  # surrogates and controls included
anything = st.one_of(
    st.none(),
    st.integers(),
    st.floats(),
    st.booleans(),
    any_text,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(any_text, any_text, max_size=2),
)
hostile_ids = st.text(
    alphabet=st.sampled_from(list("'\";--/\\%_*.()[]{}$`|&<>\x00\n ab1🚀ש")), max_size=300
)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[OllamaEmulator, ModelManager]]:
    with OllamaEmulator() as emulator:
        home = tmp_path_factory.mktemp("fuzz-home")
        manager = ModelManager(fast_settings(emulator.base_url, home=home))
        manager.query_model_sync("llama", "the sentinel turn", session_id="sentinel")
        yield emulator, manager
        stored = manager.history_sync.messages("sentinel")
        assert [m.content for m in stored] == ["the sentinel turn", stored[1].content]
        assert stored[1].content.endswith("the sentinel turn")
        assert emulator.state.rejected == [], emulator.state.rejected


def outcome(action) -> str:  # type: ignore[no-untyped-def]
    try:
        action()
    except ZeroLLMError as error:
        assert str(error).strip(), "an error must say what was wrong"
        return type(error).__name__
    return "ok"


@FUZZ
@given(text=any_text)
def test_any_text(world: tuple[OllamaEmulator, ModelManager], text: str) -> None:
    _, manager = world
    result = outcome(lambda: manager.query_model_sync("llama", text))
    if not text.strip() or any("\ud800" <= ch <= "\udfff" for ch in text):
        assert result == "InvalidRequestError"
    else:
        assert result == "ok"


@FUZZ
@given(task=anything, model=anything)
def test_any_task_and_model(
    world: tuple[OllamaEmulator, ModelManager], task: object, model: object
) -> None:
    _, manager = world
    routed = outcome(lambda: manager.switch_model(task))  # type: ignore[arg-type]
    assert routed in ("ok", "InvalidRequestError")
    asked = outcome(lambda: manager.query_model_sync(model, "hello"))  # type: ignore[arg-type]
    assert asked in ("ok", "InvalidRequestError", "UnknownModelError")


@FUZZ
@given(session_id=hostile_ids, text=st.text(min_size=1, max_size=50).filter(str.strip))
def test_hostile_session_ids(
    world: tuple[OllamaEmulator, ModelManager], session_id: str, text: str
) -> None:
    _, manager = world
    result = outcome(lambda: manager.query_model_sync("llama", text, session_id=session_id))
    if result == "ok":
        stored = manager.history_sync.messages(session_id)
        assert stored[-2].content == text and stored[-1].complete
        assert len(stored) % 2 == 0
    else:
        assert result == "InvalidRequestError"


@FUZZ
@given(context=anything, stream=anything, fmt=anything)
def test_any_options(
    world: tuple[OllamaEmulator, ModelManager], context: object, stream: object, fmt: object
) -> None:
    _, manager = world
    result = outcome(lambda: manager.query_model_sync("llama", "hi", context, stream))  # type: ignore[arg-type]
    assert result in ("ok", "InvalidRequestError")
    runnable = manager.as_runnable()
    formatted = outcome(lambda: runnable.invoke({"input": "hi", "format": fmt, "context": context}))
    assert formatted in ("ok", "InvalidRequestError")


@pytest.mark.parametrize(
    "schema",
    [{"": "\ud800"}, {"type": {"a", "b"}}, {"maximum": float("nan")}],
    ids=["lone-surrogate", "a-set", "nan"],
)
def test_a_format_that_cannot_be_sent_as_json_is_named(
    world: tuple[OllamaEmulator, ModelManager], schema: dict[str, object]
) -> None:
    emulator, manager = world
    before = len(emulator.requests_to("/api/chat"))
    with pytest.raises(InvalidRequestError, match="format is not a JSON schema"):
        manager.as_runnable().invoke({"input": "hi", "format": schema})
    assert len(emulator.requests_to("/api/chat")) == before


def test_input_too_long_for_any_window(world: tuple[OllamaEmulator, ModelManager]) -> None:
    emulator, manager = world
    before = len(emulator.requests_to("/api/chat"))
    with pytest.raises(ContextOverflowError, match="need"):
        manager.query_model_sync("llama", "tokens " * 140_000)
    assert len(emulator.requests_to("/api/chat")) == before


def test_bad_settings_and_names_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="model_name"):
        ModelManager(home=tmp_path).spec("")
    with pytest.raises(UnknownModelError, match="not in the catalog") as info:
        ModelManager(home=tmp_path).spec("gpt-9")
    assert not isinstance(info.value, ModelNotFoundError)  # "pull it" would be wrong advice
    assert "llama3.1:8b" in info.value.known and info.value.model == "gpt-9"
