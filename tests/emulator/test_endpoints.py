"""The emulator's fidelity to Ollama's REST API, through the official ollama client."""

from __future__ import annotations

import json
import time

import httpx
import ollama
import pytest
from langchain_ollama import ChatOllama

from zero_llm.testing import DEFAULT_EMULATED_MODELS, EmulatedModel, OllamaEmulator

ZERO_MODELS = ("deepseek-r1:32b", "llama3.1:8b", "qwen2.5-coder:32b")
FINAL_COUNTS = (
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
)


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_root_and_version(emulator: OllamaEmulator) -> None:
    root = httpx.get(emulator.base_url + "/")
    assert root.status_code == 200 and root.text == "Ollama is running"
    assert httpx.head(emulator.base_url + "/").status_code == 200
    version = httpx.get(emulator.base_url + "/api/version").json()
    assert isinstance(version["version"], str) and version["version"].count(".") == 2


def test_tags_lists_the_zero_models_with_details(emulator: OllamaEmulator) -> None:
    listing = ollama.Client(host=emulator.base_url).list()
    names = {m.model for m in listing.models}
    assert set(ZERO_MODELS) <= names and "nomic-embed-text:latest" in names
    llama = next(m for m in listing.models if m.model == "llama3.1:8b")
    assert llama.details is not None and llama.details.family == "llama"
    assert llama.size and llama.size > 4_000_000_000 and llama.digest and len(llama.digest) == 64


@pytest.mark.parametrize(
    ("name", "key", "length"),
    [
        ("llama3.1:8b", "llama.context_length", 131072),
        ("deepseek-r1:32b", "qwen2.context_length", 131072),
        ("qwen2.5-coder:32b", "qwen2.context_length", 32768),
    ],
)
def test_show_reports_context_length_and_capabilities(
    emulator: OllamaEmulator, name: str, key: str, length: int
) -> None:
    info = ollama.Client(host=emulator.base_url).show(name)
    assert info.modelinfo is not None and info.modelinfo[key] == length
    assert "completion" in (info.capabilities or [])
    assert ("thinking" in (info.capabilities or [])) == name.startswith("deepseek")
    assert info.modelinfo["tokenizer.ggml.tokens"] is None  # arrays only when verbose


def test_show_verbose_and_unknown_model(emulator: OllamaEmulator) -> None:
    verbose = httpx.post(
        emulator.base_url + "/api/show", json={"model": "llama3.1:8b", "verbose": True}
    ).json()
    assert verbose["model_info"]["tokenizer.ggml.pre"] == "llama-bpe"
    with pytest.raises(ollama.ResponseError) as info:
        ollama.Client(host=emulator.base_url).show("nope:1b")
    assert info.value.status_code == 404 and "not found" in info.value.error


def test_chat_non_streamed_has_answer_and_final_counts() -> None:
    with OllamaEmulator(time_scale=0.01) as emulator:  # llama loads in 3 s x 0.01
        client = ollama.Client(host=emulator.base_url)
        response = client.chat(model="llama3.1:8b", messages=user("hello there"), stream=False)
        assert response.message.content == "[llama3.1:8b] You said: hello there"
        assert response.done and response.done_reason == "stop"
        for key in FINAL_COUNTS:
            assert isinstance(response[key], int), key
        assert response.load_duration and response.load_duration >= 0.03e9  # cold load
        again = client.chat(model="llama3.1:8b", messages=user("x"))
        assert again.load_duration is not None and again.load_duration < 0.01e9  # warm


def test_chat_stream_is_ndjson_with_a_final_chunk(emulator: OllamaEmulator) -> None:
    with httpx.stream(
        "POST",
        emulator.base_url + "/api/chat",
        json={"model": "llama3.1:8b", "messages": user("stream me")},
    ) as r:
        assert r.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in r.iter_lines() if line]
    assert all(not line["done"] for line in lines[:-1]) and lines[-1]["done"] is True
    text = "".join(line["message"]["content"] for line in lines)
    assert text == "[llama3.1:8b] You said: stream me"
    assert lines[-1]["eval_count"] == len(lines) - 1
    for key in FINAL_COUNTS:
        assert isinstance(lines[-1][key], int)


async def test_async_client_stream_and_generate(emulator: OllamaEmulator) -> None:
    client = ollama.AsyncClient(host=emulator.base_url)
    parts = [
        p
        async for p in await client.chat(
            model="qwen2.5-coder:32b", messages=user("code"), stream=True
        )
    ]
    assert "".join(p.message.content or "" for p in parts) == "[qwen2.5-coder:32b] You said: code"
    generated = await client.generate(model="llama3.1:8b", prompt="say hi", system="be brief")
    assert generated.response == "[llama3.1:8b] You said: say hi" and generated.done
    stream = [p async for p in await client.generate(model="llama3.1:8b", prompt="hi", stream=True)]
    assert stream[-1].done and stream[-1].eval_count == len(stream) - 1


def test_num_predict_cuts_with_length(emulator: OllamaEmulator) -> None:
    response = ollama.Client(host=emulator.base_url).chat(
        model="llama3.1:8b",
        messages=user("a long question to answer"),
        options={"num_predict": 3},
    )
    assert response.done_reason == "length" and response.eval_count == 3


def test_num_ctx_truncates_silently_keeping_system_and_newest(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    history = [{"role": "system", "content": "rules"}]
    history += [
        {"role": "user" if i % 2 == 0 else "assistant", "content": "word " * 50} for i in range(40)
    ]
    history.append({"role": "user", "content": "the question"})
    full = client.chat(model="llama3.1:8b", messages=history, options={"num_ctx": 100000})
    cut = client.chat(model="llama3.1:8b", messages=history, options={"num_ctx": 512})
    assert full.prompt_eval_count and full.prompt_eval_count > 2000
    assert cut.prompt_eval_count and cut.prompt_eval_count <= 512
    assert cut.message.content == "[llama3.1:8b] You said: the question"


def test_truncate_false_refuses_an_overlong_prompt(emulator: OllamaEmulator) -> None:
    response = httpx.post(
        emulator.base_url + "/api/chat",
        json={
            "model": "llama3.1:8b",
            "messages": user("word " * 600),
            "stream": False,
            "truncate": False,
            "options": {"num_ctx": 256},
        },
    )
    assert response.status_code == 400
    assert "exceeds the context length" in response.json()["error"]


def test_thinking_models_think_apart_unless_told_not_to(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    default = client.chat(model="deepseek-r1:32b", messages=user("why?"))
    assert default.message.thinking and "think" in default.message.thinking
    assert default.message.content == "[deepseek-r1:32b] You said: why?"
    off = client.chat(model="deepseek-r1:32b", messages=user("why?"), think=False)
    assert not off.message.thinking
    generated = client.generate(model="deepseek-r1:32b", prompt="why?", think=True)
    assert generated.thinking and "think" not in (generated.response or "").lower()
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model="llama3.1:8b", messages=user("x"), think=True)
    assert info.value.status_code == 400 and "does not support thinking" in info.value.error


def test_embeddings_are_normalised_and_embedding_models_refuse_chat(
    emulator: OllamaEmulator,
) -> None:
    client = ollama.Client(host=emulator.base_url)
    result = client.embed(model="nomic-embed-text", input=["hello world", "other text"])
    assert len(result.embeddings) == 2 and len(result.embeddings[0]) == 768
    for vector in result.embeddings:
        assert abs(sum(v * v for v in vector) - 1.0) < 1e-9
    assert result.embeddings[0] != result.embeddings[1]
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model="nomic-embed-text", messages=user("hi"))
    assert info.value.status_code == 400 and "does not support chat" in info.value.error


def test_load_unload_ps_and_keep_alive_expiry(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    loaded = client.chat(model="llama3.1:8b", messages=[], options={"num_ctx": 8192})
    assert loaded.done_reason == "load"
    ps = client.ps()
    assert [m.model for m in ps.models] == ["llama3.1:8b"]
    assert ps.models[0].context_length == 8192 and ps.models[0].expires_at is not None
    unloaded = client.chat(model="llama3.1:8b", messages=[], keep_alive=0)
    assert unloaded.done_reason == "unload" and client.ps().models == []
    client.generate(model="llama3.1:8b", prompt="", keep_alive="1s")
    assert [m.model for m in client.ps().models] == ["llama3.1:8b"]
    client.generate(model="llama3.1:8b", prompt="", keep_alive="30ms")  # renewed, shorter
    time.sleep(0.06)
    assert client.ps().models == []


def test_a_different_num_ctx_reloads_the_model(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    first = client.chat(model="llama3.1:8b", messages=user("a"), options={"num_ctx": 4096})
    same = client.chat(model="llama3.1:8b", messages=user("b"), options={"num_ctx": 4096})
    other = client.chat(model="llama3.1:8b", messages=user("c"), options={"num_ctx": 8192})
    assert first.message.content and same.message.content and other.message.content
    assert emulator.load_count == 2 and emulator.stats.reloads == 1
    assert [m.context_length for m in client.ps().models] == [8192]


def test_gpu_memory_evicts_the_least_recently_used() -> None:
    with OllamaEmulator(gpu_memory=30 * 2**30) as emu:
        client = ollama.Client(host=emu.base_url)
        client.chat(model="llama3.1:8b", messages=[], options={"num_ctx": 2048})
        client.chat(model="qwen2.5-coder:32b", messages=[], options={"num_ctx": 2048})
        assert {m.model for m in client.ps().models} == {"llama3.1:8b", "qwen2.5-coder:32b"}
        client.chat(model="deepseek-r1:32b", messages=[], options={"num_ctx": 2048})
        assert {m.model for m in client.ps().models} == {"deepseek-r1:32b"}


def test_missing_model_and_bad_requests(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model="ghost:7b", messages=user("x"))
    assert info.value.status_code == 404 and info.value.error == "model 'ghost:7b' not found"
    bad_json = httpx.post(emulator.base_url + "/api/chat", content=b"{not json")
    assert bad_json.status_code == 400 and "error" in bad_json.json()
    no_model = httpx.post(emulator.base_url + "/api/chat", json={"messages": user("x")})
    assert no_model.status_code == 400 and no_model.json()["error"] == "model is required"
    bad_ctx = httpx.post(
        emulator.base_url + "/api/chat",
        json={"model": "llama3.1:8b", "messages": user("x"), "options": {"num_ctx": "big"}},
    )
    assert bad_ctx.status_code == 500  # Ollama's scheduler fails on the option, a 500
    assert bad_ctx.json()["error"] == 'option "num_ctx" must be of type integer'


def test_pull_streams_progress_and_makes_the_model_present() -> None:
    with OllamaEmulator(pullable=["llama3.1:8b"]) as emu:
        client = ollama.Client(host=emu.base_url)
        assert "llama3.1:8b" not in {m.model for m in client.list().models}
        steps = list(client.pull("llama3.1:8b", stream=True))
        statuses = [s.status for s in steps]
        assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
        assert "verifying sha256 digest" in statuses and "writing manifest" in statuses
        layers = [s for s in steps if s.digest]
        assert layers and all(s.total and s.completed is not None for s in layers)
        assert any(s.completed == s.total for s in layers)
        assert "llama3.1:8b" in {m.model for m in client.list().models}
        assert client.pull("llama3.1:8b").status == "success"  # the non-streamed form


def test_pull_of_an_unknown_model_fails_like_ollama(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    with pytest.raises(ollama.ResponseError) as streamed:
        list(client.pull("no-such-model:1b", stream=True))
    assert "file does not exist" in streamed.value.error
    with pytest.raises(ollama.ResponseError) as whole:
        client.pull("no-such-model:1b")
    assert whole.value.status_code == 500


def test_delete_removes_the_model(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    assert client.delete("qwen2.5-coder:32b").status == "success"
    assert "qwen2.5-coder:32b" not in {m.model for m in client.list().models}
    with pytest.raises(ollama.ResponseError) as info:
        client.delete("qwen2.5-coder:32b")
    assert info.value.status_code == 404


def test_structured_output_follows_the_schema(emulator: OllamaEmulator) -> None:
    schema = {
        "type": "object",
        "properties": {
            "stance": {"type": "string", "enum": ["bullish", "bearish"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "required": ["stance", "confidence"],
    }
    response = ollama.Client(host=emulator.base_url).chat(
        model="llama3.1:8b", messages=user("view on $SPY"), format=schema
    )
    value = json.loads(response.message.content or "")
    assert value["stance"] == "bullish" and 0 <= value["confidence"] <= 1


def test_extra_models_can_be_added() -> None:
    extra = EmulatedModel(
        name="phi3:mini",
        architecture="phi3",
        family="phi3",
        context_length=4096,
        parameter_size="3.8B",
        parameter_count=3_800_000_000,
        size=2_000_000_000,
    )
    with OllamaEmulator(models=[extra]) as emu:
        names = {m.model for m in ollama.Client(host=emu.base_url).list().models}
        assert names == {*DEFAULT_EMULATED_MODELS, "phi3:mini"}


def test_chat_ollama_works_against_the_emulator(emulator: OllamaEmulator) -> None:
    llm = ChatOllama(model="llama3.1:8b", base_url=emulator.base_url, num_ctx=2048)
    message = llm.invoke("hi there")
    assert message.content == "[llama3.1:8b] You said: hi there"
    assert message.usage_metadata and message.usage_metadata["output_tokens"] > 0
    chunks = list(llm.stream("streamed"))
    assert "".join(str(c.content) for c in chunks) == "[llama3.1:8b] You said: streamed"
    thinker = ChatOllama(model="deepseek-r1:32b", base_url=emulator.base_url, reasoning=True)
    thought = thinker.invoke("why?")
    assert "You said: why?" in str(thought.content)
    assert "think" in thought.additional_kwargs["reasoning_content"]
    assert emulator.requests_to("/api/chat")[0].body["options"]["num_ctx"] == 2048  # type: ignore[index]


async def test_chat_ollama_async_against_the_emulator(emulator: OllamaEmulator) -> None:
    llm = ChatOllama(model="qwen2.5-coder:32b", base_url=emulator.base_url)
    message = await llm.ainvoke("async")
    assert message.content == "[qwen2.5-coder:32b] You said: async"
    chunks = [c async for c in llm.astream("astream")]
    assert "".join(str(c.content) for c in chunks) == "[qwen2.5-coder:32b] You said: astream"
