"""Any model the Ollama server has works wherever a model is named, not only the catalog's."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest
from langchain_core.messages import HumanMessage
from typer.testing import CliRunner

from tests.conftest import fast_settings
from zero_llm import ModelManager, UnknownModelError
from zero_llm.cli.commands import app
from zero_llm.testing import OllamaEmulator
from zero_llm.testing.catalog import default_models


@pytest.fixture
def server() -> Iterator[OllamaEmulator]:
    """An emulator that also has mistral:7b (not in the catalog) and can pull phi3."""
    llama = next(m for m in default_models() if m.name == "llama3.1:8b")
    mistral = dataclasses.replace(llama, name="mistral:7b", family="mistral")
    phi = dataclasses.replace(llama, name="phi3:latest", family="phi3")
    with OllamaEmulator(models=[*default_models(), mistral, phi], pullable=["phi3:latest"]) as emu:
        emu.set_present("phi3:latest", False)
        yield emu


async def test_query_load_unload_and_chat_model_take_a_server_model(
    server: OllamaEmulator,
) -> None:
    async with ModelManager(fast_settings(server.base_url)) as manager:
        answer = await manager.query_model("mistral:7b", "hello")
        assert answer.model == "mistral:7b" and answer.text == "[mistral:7b] You said: hello"
        loaded = await manager.load_model("mistral:7b")
        assert loaded.model == "mistral:7b" and "mistral:7b" in server.loaded_models()
        await manager.unload_model("mistral:7b")
        assert "mistral:7b" not in server.loaded_models()
        reply = await manager.chat_model(model="mistral:7b").ainvoke([HumanMessage("hi")])
        assert reply.content == "[mistral:7b] You said: hi"


async def test_pull_and_rm_any_name(server: OllamaEmulator) -> None:
    async with ModelManager(fast_settings(server.base_url)) as manager:
        assert await manager.pull_model("phi3") == "phi3:latest"
        assert (await manager.query_model("phi3", "hi")).model == "phi3:latest"
        assert await manager.delete_model("phi3") == "phi3:latest"
        assert "phi3:latest" not in await manager.backend.present_models()


async def test_a_name_nobody_knows_gets_did_you_mean(server: OllamaEmulator) -> None:
    async with ModelManager(fast_settings(server.base_url)) as manager:
        with pytest.raises(UnknownModelError, match="did you mean 'mistral:7b'") as caught:
            await manager.query_model("mistrl:7b", "hello")
        assert "mistral:7b" in caught.value.known
        with pytest.raises(UnknownModelError, match=r"did you mean 'llama3\.1:8b'"):
            await manager.load_model("llama3.1:9b")
    assert server.requests_to("/api/chat") == [] and server.requests_to("/api/pull") == []


def test_cli_models_lists_the_server_models_beside_the_roles(server: OllamaEmulator) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "--json", "--host", server.base_url])
    assert listed.exit_code == 0, listed.stderr
    rows = {row["model"]: row for row in json.loads(listed.stdout)}
    assert rows["llama3.1:8b"]["role"] == "quick"
    assert rows["mistral:7b"]["role"] == "" and rows["mistral:7b"]["present"] is True
    asked = runner.invoke(app, ["ask", "--model", "mistral:7b", "hi", "--host", server.base_url])
    assert asked.exit_code == 0, asked.stderr
    assert asked.stdout == "[mistral:7b] You said: hi\n"
    wrong = runner.invoke(app, ["load", "mistrall", "--host", server.base_url])
    assert wrong.exit_code == 1 and "did you mean 'mistral:7b'" in wrong.stderr
    removed = runner.invoke(app, ["rm", "mistral:7b", "--host", server.base_url])
    assert removed.exit_code == 0 and removed.stdout == "mistral:7b removed\n"
