"""Every error a user (or a broken server) can cause is a ZeroLLMError naming what was wrong."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.app_server import serving
from tests.conftest import fast_settings
from zero_llm import InvalidRequestError, ModelManager, OllamaServerError
from zero_llm.chat_model import ZeroChatModel
from zero_llm.history import HistoryStore
from zero_llm.testing import OllamaEmulator


@pytest.fixture
def misshapen() -> Iterator[str]:
    """A server whose JSON is well formed but of the wrong shape for every endpoint."""
    body = json.dumps({"models": "none", "modelinfo": 7, "message": 5, "done": True})

    async def answer(request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    with serving(app) as url:
        yield url


async def test_a_wrongly_shaped_answer_is_an_ollama_error(misshapen: str, tmp_path: Path) -> None:
    manager = ModelManager(fast_settings(misshapen, home=tmp_path, retry={"max_attempts": 1}))
    with pytest.raises(OllamaServerError, match="wrong shape"):
        await manager.query_model("llama", "hello")
    with pytest.raises(OllamaServerError, match="wrong shape"):
        await manager.loaded_models()
    await manager.aclose()


@pytest.mark.parametrize(
    ("tool", "named"),
    [
        ({"type": "function", "function": {"name": "f", "parameters": "x"}}, "parameters"),
        ({"type": "function", "function": {"parameters": {}}}, "no function name"),
        ({"type": "function", "function": "f"}, "must be"),
        ("not a tool", "must be a dict"),
        (
            {"type": "function", "function": {"name": "f", "parameters": {"properties": 3}}},
            "properties",
        ),
    ],
)
async def test_a_malformed_tool_schema_is_refused_before_asking(
    manager: ModelManager, emulator: OllamaEmulator, tool: object, named: str
) -> None:
    asked = len(emulator.requests_to("/api/chat"))
    model = manager.chat_model().bind(tools=[tool])
    with pytest.raises(InvalidRequestError, match=named):
        await model.ainvoke("what is the weather?")
    assert len(emulator.requests_to("/api/chat")) == asked


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0])
async def test_a_temperature_that_is_no_number_is_refused(
    manager: ModelManager, emulator: OllamaEmulator, value: float
) -> None:
    model = ZeroChatModel(manager, temperature=value)
    with pytest.raises(InvalidRequestError, match="temperature"):
        await model.ainvoke("hello")
    assert emulator.requests_to("/api/chat") == []


def test_query_model_needs_a_model_name(manager: ModelManager, emulator: OllamaEmulator) -> None:
    with pytest.raises(InvalidRequestError, match="model_name"):
        asyncio.run(manager.query_model(None, "hello"))  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="model_name"):
        manager.query_model_sync(5, "hello")  # type: ignore[arg-type]
    assert emulator.requests_to("/api/chat") == []


async def test_usage_summary_refuses_an_unknown_grouping(manager: ModelManager) -> None:
    await manager.query_model("llama", "hello")
    await manager.flush_usage()
    with pytest.raises(InvalidRequestError, match="bogus"):
        await manager.usage.summary(by="bogus")  # type: ignore[arg-type]
    (everything,) = await manager.usage.summary()
    assert everything.calls == 1


async def test_session_titles_and_metadata_are_bounded(tmp_path: Path) -> None:
    store = HistoryStore(f"sqlite+aiosqlite:///{tmp_path / 'h.sqlite3'}")
    with pytest.raises(InvalidRequestError, match="at most"):
        await store.update_session("s", title="t" * (10 * 2**20))
    for bad in (math.nan, math.inf, {"deep": [-math.inf]}):
        with pytest.raises(InvalidRequestError, match="JSON"):
            await store.update_session("s", metadata={"score": bad})
    assert await store.session("s") is None  # nothing was written
    info = await store.update_session("s", title="t" * 1000, metadata={"score": 1.5})
    assert info.title == "t" * 1000 and info.metadata == {"score": 1.5}
    await store.close()
