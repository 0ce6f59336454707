"""Each fault the emulator can inject, as the official client sees it."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import ollama
import pytest

from zero_llm.testing import OllamaEmulator


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_fail_next_and_busy_hit_only_the_armed_count(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    emulator.faults.fail_next(1, status=500).busy_next(1)
    with pytest.raises(ollama.ResponseError) as first:
        client.chat(model="llama3.1:8b", messages=user("x"))
    assert first.value.status_code == 500
    with pytest.raises(ollama.ResponseError) as second:
        client.chat(model="llama3.1:8b", messages=user("x"))
    assert second.value.status_code == 503 and "server busy" in second.value.error
    assert client.chat(model="llama3.1:8b", messages=user("x")).done
    assert emulator.faults.fired == ["status", "status"] and emulator.faults.pending == 0


def test_faults_leave_other_endpoints_alone(emulator: OllamaEmulator) -> None:
    emulator.faults.fail_next(1)
    client = ollama.Client(host=emulator.base_url)
    assert client.list().models  # /api/tags is not a model endpoint
    with pytest.raises(ollama.ResponseError):
        client.chat(model="llama3.1:8b", messages=user("x"))


def test_refused_connections_come_back(emulator: OllamaEmulator) -> None:
    client = ollama.Client(host=emulator.base_url)
    client.list()  # a pooled keep-alive connection exists now; going down drops it too
    emulator.faults.refuse_connections(0.3)
    with pytest.raises(ConnectionError):
        client.chat(model="llama3.1:8b", messages=user("x"))
    deadline = time.monotonic() + 5
    while True:
        try:
            assert client.chat(model="llama3.1:8b", messages=user("x")).done
            break
        except ConnectionError:
            assert time.monotonic() < deadline, "the emulator did not come back"
            time.sleep(0.05)


def test_stall_before_first_chunk(emulator: OllamaEmulator) -> None:
    emulator.faults.stall_before_first_chunk(0.5)
    client = ollama.Client(host=emulator.base_url, timeout=0.2)
    with pytest.raises(httpx.ReadTimeout):
        client.chat(model="llama3.1:8b", messages=user("x"))
    started = time.perf_counter()
    assert ollama.Client(host=emulator.base_url).chat(model="llama3.1:8b", messages=user("x"))
    assert time.perf_counter() - started < 0.4


def test_cut_stream_after_k_chunks(emulator: OllamaEmulator) -> None:
    emulator.faults.cut_stream_after(3)
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        for part in ollama.Client(host=emulator.base_url).chat(
            model="llama3.1:8b", messages=user("one two three four"), stream=True
        ):
            received.append(part.message.content or "")
    assert len(received) == 3


def test_malformed_line_mid_stream(emulator: OllamaEmulator) -> None:
    emulator.faults.malformed_line_after(2)
    received = []
    with pytest.raises(json.JSONDecodeError):
        for part in ollama.Client(host=emulator.base_url).chat(
            model="llama3.1:8b", messages=user("x y z"), stream=True
        ):
            received.append(part)
    assert len(received) == 2


def test_error_line_mid_stream(emulator: OllamaEmulator) -> None:
    emulator.faults.error_line_after(2, "llama runner crashed")
    with pytest.raises(ollama.ResponseError) as info:
        list(
            ollama.Client(host=emulator.base_url).chat(
                model="llama3.1:8b", messages=user("x y z"), stream=True
            )
        )
    assert info.value.error == "llama runner crashed"


def test_slow_load_slows_only_a_cold_load(emulator: OllamaEmulator) -> None:
    emulator.faults.slow_load(0.3)
    client = ollama.Client(host=emulator.base_url)
    started = time.perf_counter()
    client.chat(model="llama3.1:8b", messages=user("x"))
    assert time.perf_counter() - started >= 0.3


def test_invalid_json_for_a_format_request(emulator: OllamaEmulator) -> None:
    emulator.faults.invalid_json_next()
    response = ollama.Client(host=emulator.base_url).chat(
        model="llama3.1:8b", messages=user("x"), format="json"
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.message.content or "")


def test_a_fault_must_hit_at_least_once(emulator: OllamaEmulator) -> None:
    with pytest.raises(ValueError, match="at least one"):
        emulator.faults.fail_next(0)


def test_zero_llm_emulate_serves_the_api() -> None:
    probe = OllamaEmulator()  # only to find a free port
    probe.start()
    port = probe.port
    probe.stop()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zero_llm.cli",
            "emulate",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert f"127.0.0.1:{port}" in line
        client = ollama.Client(host=f"http://127.0.0.1:{port}")
        assert client.chat(model="llama3.1:8b", messages=user("cli")).message.content == (
            "[llama3.1:8b] You said: cli"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
