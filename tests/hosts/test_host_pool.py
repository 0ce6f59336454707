"""Several Ollama hosts used as one: placement, stickiness, health, failover.

Three emulators on loopback ports: one killed mid-run, one slow, one lacking a model.
Every request is answered or fails with a typed error; none is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.conftest import fast_settings
from zero_llm import ModelManager, ZeroLLMError
from zero_llm.testing import OllamaEmulator


@pytest.fixture
def three() -> Iterator[list[OllamaEmulator]]:
    """Three emulators; the second answers slowly."""
    emulators = [
        OllamaEmulator().start(),
        OllamaEmulator(chunk_delay=0.01).start(),
        OllamaEmulator().start(),
    ]
    try:
        yield emulators
    finally:
        for emu in emulators:
            emu.stop()


def pool_manager(emulators: list[OllamaEmulator], **overrides: object) -> ModelManager:
    hosts = [{"url": emu.base_url} for emu in emulators]
    return ModelManager(fast_settings(emulators[0].base_url, hosts=hosts, **overrides))


async def test_a_request_goes_where_its_model_is_resident(three: list[OllamaEmulator]) -> None:
    a, b, c = three
    manager = pool_manager(three)
    await ModelManager(fast_settings(c.base_url)).load_model("qwen")  # resident on c only
    answer = await manager.ask("hello", task="code")
    assert answer.trace.host == c.base_url
    assert c.load_count == 1 and a.load_count == 0 and b.load_count == 0


async def test_a_model_absent_elsewhere_is_served_where_present(
    three: list[OllamaEmulator],
) -> None:
    a, b, c = three
    a.set_present("deepseek-r1:32b", False)
    c.set_present("deepseek-r1:32b", False)
    manager = pool_manager(three, auto_pull=False)
    answer = await manager.ask("why", task="trading")
    assert answer.trace.host == b.base_url and answer.model == "deepseek-r1:32b"
    assert not a.requests_to("/api/pull") and not c.requests_to("/api/pull")


async def test_a_host_may_be_limited_to_some_models(three: list[OllamaEmulator]) -> None:
    a, b, c = three
    hosts = [
        {"url": a.base_url, "models": ["llama3.1:8b"]},
        {"url": b.base_url, "models": ["llama3.1:8b"]},
        {"url": c.base_url, "models": ["qwen2.5-coder:32b"]},
    ]
    manager = ModelManager(fast_settings(a.base_url, hosts=hosts))
    answers = await asyncio.gather(*(manager.ask(f"q{i}", task="code") for i in range(4)))
    assert {x.trace.host for x in answers} == {c.base_url}


async def test_a_conversation_stays_on_its_host(three: list[OllamaEmulator]) -> None:
    manager = pool_manager(three)
    first = await manager.ask("hello", task="quick", session_id="s")
    for i in range(4):
        later = await manager.ask(f"and {i}?", task="quick", session_id="s")
        assert later.trace.host == first.trace.host


async def test_a_killed_host_costs_no_request(three: list[OllamaEmulator]) -> None:
    a, b, _c = three
    manager = pool_manager(three)
    for emu in three:  # the quick model is resident everywhere
        await ModelManager(fast_settings(emu.base_url)).load_model("llama")

    async def one(i: int) -> str:
        try:
            answer = await manager.ask(f"question {i}", task="quick")
        except ZeroLLMError as exc:  # typed, never lost
            return f"error {type(exc).__name__}"
        assert answer.text == f"[llama3.1:8b] You said: question {i}"
        return answer.trace.host or ""

    first = await asyncio.gather(*(one(i) for i in range(12)))
    a.stop()  # killed mid-run
    second = await asyncio.gather(*(one(i) for i in range(12, 36)))
    assert all(not h.startswith("error") for h in first + second)
    assert a.base_url not in second[4:]  # after the first failures, nothing more goes there
    cooling = next(h for h in manager.hosts.hosts if h.url == a.base_url)
    assert cooling.failures >= 1 and cooling.last_error
    views = {v.url: v for v in await manager.hosts.views()}
    assert not views[a.base_url].healthy and views[b.base_url].healthy


async def test_a_stream_whose_host_dies_before_the_first_chunk_moves_on(
    three: list[OllamaEmulator],
) -> None:
    a, _b, c = three
    manager = pool_manager([a, c])
    a.faults.refuse_connections(5.0)
    stream = await manager.ask("hello", task="quick", stream=True)
    text = "".join([chunk async for chunk in stream])
    assert text == "[llama3.1:8b] You said: hello"
    assert stream.trace.host == c.base_url


async def test_one_host_is_the_default(emulator: OllamaEmulator) -> None:
    manager = ModelManager(fast_settings(emulator.base_url))
    assert [h.url for h in manager.hosts.hosts] == [emulator.base_url]
    answer = await manager.ask("hi")
    assert answer.trace.host == emulator.base_url


async def test_each_host_has_its_own_profile_of_a_model() -> None:
    """A model's num_ctx comes from the host it runs on (profiles are per host and model)."""
    from dataclasses import replace

    from zero_llm.testing.catalog import default_models

    models = default_models()
    small = [replace(m, context_length=8192) if m.name == "llama3.1:8b" else m for m in models]
    with OllamaEmulator() as a, OllamaEmulator(models=small) as b:
        manager = ModelManager(
            fast_settings(a.base_url, hosts=[{"url": a.base_url}, {"url": b.base_url}])
        )
        spec = manager.spec("llama")
        on_a = await manager.profiles.resolve(spec, manager.hosts.hosts[0].backend)
        on_b = await manager.profiles.resolve(spec, manager.hosts.hosts[1].backend)
        assert on_a.num_ctx == 131072 and on_b.num_ctx == 8192
        assert manager.profiles.known("llama3.1:8b", b.base_url) is on_b
        assert manager.profiles.known("llama3.1:8b") is on_a  # the first host's first
        await manager.aclose()


async def test_lifecycle_calls_go_through_the_pool(three: list[OllamaEmulator]) -> None:
    """load_model loads where the pool places the model; unload and ps cover every host."""
    a, b, c = three
    a.set_present("qwen2.5-coder:32b", False)
    b.set_present("qwen2.5-coder:32b", False)
    manager = pool_manager(three, auto_pull=False)
    loaded = await manager.load_model("qwen")
    assert loaded.host == c.base_url and not loaded.pulled
    assert (a.load_count, b.load_count, c.load_count) == (0, 0, 1)
    await ModelManager(fast_settings(a.base_url)).load_model("llama")
    names = sorted(m.name for m in await manager.loaded_models())
    assert names == ["llama3.1:8b", "qwen2.5-coder:32b"]  # from a and from c
    await manager.unload_model("qwen")
    await manager.unload_model("llama")
    assert await manager.loaded_models() == []
    statuses = {s.model: s for s in await manager.model_statuses()}
    assert statuses["qwen2.5-coder:32b"].present  # present on c only
    await manager.aclose()
