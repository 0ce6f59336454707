"""Shared fixtures: a fresh emulator per test and a manager pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zero_llm import ModelManager, ZeroLLMSettings
from zero_llm.testing import OllamaEmulator


@pytest.fixture(autouse=True)
def _isolated_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test reads the developer's environment or a zero_llm.toml lying around."""
    import os

    for key in list(os.environ):
        if key.startswith(("ZERO_LLM_", "OLLAMA_")):  # Ollama's variables feed settings too
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))  # nothing a test does lands in the real home
    monkeypatch.setenv("ZERO_LLM_HOME", str(home / ".zero_llm"))


@pytest.fixture
def emulator() -> Iterator[OllamaEmulator]:
    """A fresh Ollama emulator on a free loopback port."""
    with OllamaEmulator() as emu:
        yield emu


def fast_settings(base_url: str, **overrides: object) -> ZeroLLMSettings:
    """Settings for tests: the emulator's URL and short backoffs and deadlines."""
    values: dict[str, object] = {
        "ollama_host": base_url,
        "retry": {"initial_backoff": 0.01, "max_backoff": 0.05},
        "timeouts": {
            "connect": 2.0,
            "first_token": 5.0,
            "stall": 5.0,
            "response": 10.0,
            "total": 30.0,
        },
    }
    values.update(overrides)
    return ZeroLLMSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def manager(emulator: OllamaEmulator) -> ModelManager:
    """A manager talking to the emulator, with fast retries."""
    return ModelManager(fast_settings(emulator.base_url))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """One throwaway PostgreSQL server for the whole run (its admin URL)."""
    from tests.postgres import throwaway_postgres

    with throwaway_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def history_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A fresh, empty database on each backend: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'history.sqlite3'}"
    import asyncio
    import uuid

    import asyncpg

    admin = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        connection = await asyncpg.connect(admin.replace("postgresql+asyncpg", "postgresql"))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    return admin.rsplit("/", 1)[0] + f"/{name}"
