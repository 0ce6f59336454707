"""Settings of zero_llm, read in one place.

Sources, strongest first: arguments > ``ZERO_LLM_*`` environment variables (nested with
``__``, e.g. ``ZERO_LLM_RETRY__MAX_ATTEMPTS=2``) > ``zero_llm.toml`` (in the working
directory, or the file named by ``ZERO_LLM_CONFIG_FILE``) > Ollama's own server variables
(``OLLAMA_KEEP_ALIVE``, ``OLLAMA_CONTEXT_LENGTH``, ``OLLAMA_NUM_PARALLEL``,
``OLLAMA_KV_CACHE_TYPE``, ``OLLAMA_MAX_LOADED_MODELS``, ``OLLAMA_FLASH_ATTENTION``; see
``zero_llm.ollama_env``) > defaults. ``OLLAMA_HOST`` is honoured as Ollama's own
convention (``ZERO_LLM_OLLAMA_HOST`` wins over it). A mistake — an unknown key in the
TOML file or an unknown ``ZERO_LLM_*`` variable (with a "did you mean"), a TOML syntax
error (file, line, column) — is one ``ConfigurationError`` from ``load_settings``.

Nothing is read at import time: only when ``ZeroLLMSettings()`` is built.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from zero_llm import settings_check
from zero_llm.catalog import DEFAULT_MODELS, Catalog, ModelSpec
from zero_llm.config_file import config_file_path
from zero_llm.errors import ConfigurationError
from zero_llm.ollama_env import ollama_settings

__all__ = [
    "HostSettings",
    "MemorySettings",
    "RetrySettings",
    "RoutingSettings",
    "TimeoutSettings",
    "WindowSettings",
    "ZeroLLMSettings",
    "describe_errors",
    "load_settings",
    "mask_url",
]

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
MASK = "********"
"""What a secret is shown as."""


def _memory_size(value: str | int, what: str) -> int:
    """``value`` in bytes (``zero_llm.memory_plan``, imported only when a size is given)."""
    from zero_llm.memory_plan.sizes import parse_memory_size

    return parse_memory_size(value, what=what)


class RetrySettings(BaseModel):
    """How transient Ollama failures are retried."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=3, ge=1, le=10)
    """Attempts in all, the first included."""
    initial_backoff: float = Field(default=0.25, ge=0)
    """Seconds to wait before the second attempt."""
    multiplier: float = Field(default=2.0, ge=1)
    """Each further wait is this many times the previous one."""
    max_backoff: float = Field(default=8.0, ge=0)
    """No single wait is longer than this many seconds."""
    jitter: float = Field(default=0.25, ge=0, le=1)
    """Each wait is shortened by a random fraction up to this much."""


class TimeoutSettings(BaseModel):
    """Deadlines of a request, in seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connect: float = Field(default=5.0, gt=0)
    """Establishing the TCP connection to Ollama."""
    first_token: float = Field(default=300.0, gt=0)
    """From sending the request to the first chunk: long enough to load a 32B model cold."""
    stall: float = Field(default=60.0, gt=0)
    """Longest silence between two chunks of a stream."""
    response: float = Field(default=900.0, gt=0)
    """A whole non-streamed answer (Ollama sends nothing until it is complete)."""
    total: float = Field(default=1800.0, gt=0)
    """The whole request, all attempts and waits included."""


class WindowSettings(BaseModel):
    """How prompts are kept inside the context window."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer_reserve: int = Field(default=2048, ge=0)
    """Tokens kept free for the answer when the model has no ``num_predict``."""
    thinking_reserve: int = Field(default=2048, ge=0)
    """Extra tokens kept free for the thinking of reasoning models."""
    safety_margin: int = Field(default=64, ge=0)
    """Tokens left unused, for what counting cannot see."""
    exact_counts: bool = True
    """Fetch each model's vocabulary from Ollama (once per digest) to count exactly."""
    refuse_truncation: bool = True
    """Send ``truncate: false`` so Ollama errors instead of silently cutting a prompt."""
    summarize_dropped: bool = False
    """Replace the turns trimming drops by a summary written by the default model."""
    summary_tokens: int = Field(default=512, ge=32)
    """Room kept in the window for that summary."""


class HostSettings(BaseModel):
    """One Ollama host of the pool."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    """Where it listens (``OLLAMA_HOST`` syntax: ``host``, ``host:port`` or a URL)."""
    models: tuple[str, ...] = ()
    """The models it may serve (full names); empty: any."""
    weight: float = Field(default=1.0, gt=0)
    """Its share of the load among equally good hosts (a bigger GPU: a bigger weight)."""

    @field_validator("url")
    @classmethod
    def _parse_url(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a host url cannot be empty")
        return parse_ollama_host(value)


class RoutingSettings(BaseModel):
    """How requests without an explicit task or model are routed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    confidence_threshold: float = Field(default=0.5, ge=0, le=1)
    """Below this calibrated probability a fresh request goes to the default role ("low
    confidence" in its reason)."""
    switch_threshold: float = Field(default=0.8, ge=0, le=1)
    """A follow-up in a conversation leaves the conversation's model only when another
    task is at least this probable."""
    llm_second_stage: bool = False
    """Ask the quick model to classify requests the local classifier is unsure of."""
    second_stage_budget_s: float = Field(default=1.5, gt=0)
    """Longest wait for that second opinion; past it the local decision stands."""


class MemorySettings(BaseModel):
    """How zero_llm plans GPU memory and schedules model loads (see ``zero_llm.memory_plan``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gpu_memory: str | int | None = None
    """GPU memory for models: ``"24GiB"``, ``"24GB"``, ``"80 GiB"`` or bytes. None: read the
    total of all GPUs from ``nvidia-smi`` when it is on PATH, else plan as unlimited (and
    warn the first time ``/api/ps`` shows a model partly on the CPU)."""
    num_parallel: int = Field(default=1, ge=1, le=64)
    """Requests Ollama runs at once per model (default: the server's OLLAMA_NUM_PARALLEL)."""
    kv_cache_type: Literal["f16", "q8_0", "q4_0"] = "f16"
    """Ollama's KV cache type (default: the server's OLLAMA_KV_CACHE_TYPE)."""
    flash_attention: bool | None = None
    """Whether Ollama runs flash attention (default: OLLAMA_FLASH_ATTENTION; None: the
    server decides). False: the KV cache is planned as f16 whatever ``kv_cache_type`` says,
    as Ollama quantizes the cache only with flash attention on."""
    max_loaded_models: int = Field(default=3, ge=1)
    """Models Ollama keeps loaded at once (default: OLLAMA_MAX_LOADED_MODELS)."""
    overhead: str | int = "512MiB"
    """Memory each loaded model takes beyond weights and KV cache (graph, CUDA context)."""
    num_ctx_floor: int = Field(default=8192, ge=256)
    """No model's window is shrunk below this to share memory (unless its own is smaller)."""
    quick_num_ctx: int = Field(default=32768, ge=256)
    """The window the quick (default-role) model aims for when it shares the GPU."""
    max_swap_wait: float = Field(default=60.0, ge=0)
    """Seconds a request may wait behind other models' batches before they stop growing."""
    linger: float = Field(default=8.0, ge=0)
    """Seconds a model that just answered is held before another model's load evicts it,
    when both models' requests come in loops (agents taking turns on one GPU: each call
    within this of the answer before); bounded by ``max_swap_wait``; never for the quick
    model, nor for a conversation's own switch. 0: off."""
    quick_keep_alive: str | int = -1
    """``keep_alive`` of the quick model: -1 keeps it loaded (Ollama still evicts it when
    memory is needed and it is idle)."""
    busy_keep_alive: str | int = "30m"
    """``keep_alive`` of a large model while more requests for it wait."""
    idle_keep_alive: str | int = "2m"
    """``keep_alive`` of a large model whose queue is empty, so its memory frees soon."""

    @field_validator("gpu_memory", "overhead")
    @classmethod
    def _a_size(cls, value: str | int | None) -> str | int | None:
        if value is not None:
            _memory_size(value, "memory size")
        return value

    def planned_kv_cache_type(self) -> str:
        """The KV cache type Ollama really runs: ``f16`` when flash attention is off."""
        return "f16" if self.flash_attention is False else self.kv_cache_type

    def gpu_memory_bytes(self) -> int | None:
        """The configured GPU memory in bytes, or None when not set."""
        if self.gpu_memory is None:
            return None
        return _memory_size(self.gpu_memory, "memory.gpu_memory")

    def overhead_bytes(self) -> int:
        """The per-model overhead in bytes."""
        return _memory_size(self.overhead, "memory.overhead")


class ZeroLLMSettings(BaseSettings):
    """Every setting of zero_llm (env prefix ``ZERO_LLM_``, TOML ``zero_llm.toml``)."""

    model_config = SettingsConfigDict(
        env_prefix="ZERO_LLM_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        populate_by_name=True,
        toml_file="zero_llm.toml",
    )

    ollama_host: str = Field(
        default=DEFAULT_OLLAMA_HOST,
        validation_alias=AliasChoices("ZERO_LLM_OLLAMA_HOST", "OLLAMA_HOST"),
    )
    """Where Ollama listens (``OLLAMA_HOST`` syntax: ``host``, ``host:port`` or a URL)."""
    hosts: tuple[HostSettings, ...] = ()
    """Several Ollama hosts used as one (placement, health, failover); empty: ``ollama_host``."""
    models: dict[str, ModelSpec] = Field(default_factory=lambda: dict(DEFAULT_MODELS))
    """Role -> model spec, merged over the default catalog (see ``_merge_models_over_defaults``)."""
    default_role: str = "quick"
    """The role that answers tasks no other role claims."""
    context_window: int = Field(default=131072, gt=0)
    """The largest ``num_ctx`` zero_llm asks for (128K; default: OLLAMA_CONTEXT_LENGTH when
    set); a model's own length may be less."""
    keep_alive: str | int | None = None
    """One ``keep_alive`` for every model (Ollama's syntax: ``"5m"``, seconds, -1), in place of
    the per-model and per-kind values not set explicitly (default: OLLAMA_KEEP_ALIVE;
    None: those values' own defaults)."""
    num_ctx_memory_cap: int | None = Field(default=None, gt=0)
    """An optional further cap on ``num_ctx`` for machines whose memory cannot hold more."""
    auto_pull: bool = True
    """Pull a missing model before using it (``load_model`` and queries)."""
    window: WindowSettings = Field(default_factory=WindowSettings)
    """Context-window budgeting."""
    retry: RetrySettings = Field(default_factory=RetrySettings)
    """Retry policy for transient failures."""
    timeouts: TimeoutSettings = Field(default_factory=TimeoutSettings)
    """Request deadlines."""
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    """Routing thresholds and the optional second stage."""

    memory: MemorySettings = Field(default_factory=MemorySettings)
    """GPU memory plan and residency scheduling (``ZERO_LLM_MEMORY__GPU_MEMORY=24GiB``)."""
    home: Path = Field(default_factory=lambda: Path.home() / ".zero_llm")
    """Where zero_llm keeps its files (the SQLite database by default)."""
    history_url: str | None = None
    """Async SQLAlchemy URL of the conversation store; None: SQLite under ``home``."""
    history_key: SecretStr | None = None
    """Key to encrypt at rest message text, session titles and metadata
    (``ZERO_LLM_HISTORY_KEY``); None: plain text."""
    history_key_file: Path | None = None
    """A file holding that key, read when ``history_key`` is not set."""
    max_answer_chars: int = Field(default=8 * 2**20, ge=1024)
    """The longest answer taken from a model, in characters (text, thinking and tool-call
    arguments together); past it the call fails with ``AnswerTooLongError`` and nothing is
    stored. The default is generous: a 128K-token window cannot produce a sixteenth of it."""
    usage_ledger: bool = True
    """Write one usage record per model call to the ``zl_usage`` table (same database)."""
    usage_flush_interval: float = Field(default=0.5, ge=0.0, le=60.0)
    """Most seconds a usage record waits in memory before it is written (also flushed at exit)."""
    log_content: bool = False
    """Put prompt and answer text in log lines (off: logs carry sizes and ids only); with
    telemetry on, also on the spans (``gen_ai.input.messages``, ``gen_ai.output.messages``)."""
    telemetry: bool = True
    """Emit OpenTelemetry spans and metrics of every call when the application configured a
    tracer or meter provider (``zero-llm[otel]``); false: never, whatever is configured."""
    resident_ask: bool = True
    """Answer ``zero-llm ask`` from a resident process (started by the first ask) instead of
    starting the whole package for every question (see ``zero_llm.resident``)."""
    resident_idle_s: float = Field(default=600.0, gt=0.0)
    """Seconds without a question after which the resident process leaves."""

    @field_validator("models", mode="before")
    @classmethod
    def _merge_models_over_defaults(cls, value: Any) -> Any:
        """Merge the given roles over the default catalog.

        A partial entry (e.g. only a new ``name``) keeps the rest of its role's defaults;
        a role set to ``None`` (or ``false`` in TOML) is removed; new roles are added.
        """
        if not isinstance(value, dict):
            return value
        typos = settings_check.new_role_typos(value, DEFAULT_MODELS)
        if typos:
            raise ValueError("; ".join(typos))
        merged: dict[str, Any] = dict(DEFAULT_MODELS)
        for role, entry in value.items():
            if entry is None or entry is False:
                merged.pop(role, None)
                continue
            if isinstance(entry, dict) and role in DEFAULT_MODELS:
                entry = {**DEFAULT_MODELS[role].model_dump(), **entry}
            merged[role] = entry
        return merged

    @model_validator(mode="before")
    @classmethod
    def _spread_keep_alive(cls, data: Any) -> Any:
        """Give ``keep_alive`` to every model and keep-alive kind that has none of its own."""
        if not isinstance(data, dict) or data.get("keep_alive") is None:
            return data
        value = data["keep_alive"]
        data = dict(data)
        models = data.get("models")
        if models is None or isinstance(models, dict):
            models = {**{role: {} for role in DEFAULT_MODELS}, **(models or {})}
            data["models"] = {
                role: {"keep_alive": value, **entry} if isinstance(entry, dict) else entry
                for role, entry in models.items()
            }
        memory = data.get("memory", {})
        if isinstance(memory, dict):
            kinds = ("quick_keep_alive", "busy_keep_alive", "idle_keep_alive")
            data["memory"] = {**dict.fromkeys(kinds, value), **memory}
        return data

    @field_validator("history_url")
    @classmethod
    def _driver_installed(cls, value: str | None) -> str | None:
        """A PostgreSQL history needs asyncpg, installed by the ``postgres`` extra."""
        if value and urlsplit(value).scheme.split("+")[0] in ("postgresql", "postgres"):
            import importlib.util

            if importlib.util.find_spec("asyncpg") is None:
                raise ValueError(
                    "a PostgreSQL history_url needs the asyncpg driver, which is not "
                    "installed: pip install 'zero-llm[postgres]'"
                )
        return value

    @field_validator("ollama_host")
    @classmethod
    def _host_not_blank(cls, value: str) -> str:
        value = value.strip()
        return value or DEFAULT_OLLAMA_HOST

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then environment, then the TOML file, then Ollama's variables."""
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file_path()),
            OllamaEnvironmentSource(settings_cls),
        )

    def catalog(self) -> Catalog:
        """Build the catalog of the configured models."""
        return Catalog(self.models, self.default_role)

    @property
    def default_history_file(self) -> Path:
        """The SQLite file of the history when ``history_url`` does not name another."""
        return self.home.expanduser() / "history.sqlite3"

    @property
    def history_database_url(self) -> str:
        """The conversation store's URL (the SQLite default lives under ``home``)."""
        if self.history_url:
            return self.history_url
        return f"sqlite+aiosqlite:///{self.default_history_file}"

    def history_encryption_key(self) -> str | None:
        """The history key from ``history_key`` or ``history_key_file``, if any."""
        from zero_llm.history.crypto import load_key

        value = self.history_key.get_secret_value() if self.history_key else None
        return load_key(value, self.history_key_file)

    def host_list(self) -> tuple[HostSettings, ...]:
        """The hosts of the pool: ``hosts``, or the one ``ollama_host``."""
        return self.hosts or (HostSettings(url=self.ollama_host),)

    @property
    def ollama_base_url(self) -> str:
        """The Ollama host as a full URL, parsed the way the ollama client does."""
        return parse_ollama_host(self.ollama_host)


class OllamaEnvironmentSource(PydanticBaseSettingsSource):
    """The settings Ollama's own server variables imply (see ``zero_llm.ollama_env``)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        """Unused: ``__call__`` gives every value at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """Every setting an ``OLLAMA_*`` variable of the environment implies."""
        return ollama_settings(os.environ)


def mask_url(url: str) -> str:
    """The URL with its password (if any) replaced by stars."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:{MASK}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def parse_ollama_host(host: str | None) -> str:
    """Turn an ``OLLAMA_HOST`` value into a base URL (``http://127.0.0.1:11434`` by default).

    Ollama's own rules: no scheme means ``http``; no host means ``127.0.0.1``; no port
    means 11434, or 80/443 when ``http://``/``https://`` is written out; a path is kept.
    """
    raw = (host or "").strip()
    scheme, sep, rest = raw.partition("://")
    port = 11434
    if not sep:
        scheme, rest = "http", raw
    elif scheme == "http":
        port = 80
    elif scheme == "https":
        port = 443
    try:
        split = urlsplit(f"{scheme}://{rest}")
        name = split.hostname or "127.0.0.1"
        port = split.port or port
    except ValueError as exc:
        raise ConfigurationError(f"OLLAMA_HOST {host!r} is not a host, host:port or URL") from exc
    if ":" in name:
        name = f"[{name}]"
    path = split.path.strip("/")
    return f"{scheme}://{name}:{port}/{path}" if path else f"{scheme}://{name}:{port}"


def load_settings(**overrides: Any) -> ZeroLLMSettings:
    """Build settings from all sources, turning every failure into one ConfigurationError.

    Also an error: a ``ZERO_LLM_*`` variable that names no setting (with the closest one).
    """
    unknown = settings_check.unknown_environment_names(ZeroLLMSettings, ModelSpec, os.environ)
    if unknown:
        raise ConfigurationError("invalid zero_llm settings: " + "; ".join(unknown))
    try:
        settings = ZeroLLMSettings(**overrides)
        settings.catalog()
    except ValidationError as exc:
        raise ConfigurationError(f"invalid zero_llm settings: {describe_errors(exc)}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(
            settings_check.toml_error_line(config_file_path(), exc)
        ) from exc
    except SettingsError as exc:  # a value that is not even JSON, e.g. ZERO_LLM_HOSTS=x
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        raise ConfigurationError(f"invalid zero_llm settings: {exc}{cause}") from exc
    return settings


def describe_errors(exc: ValidationError) -> str:
    """Every problem of a validation error on one line, an unknown name with its likely one."""
    return settings_check.describe_errors(exc, ZeroLLMSettings, ModelSpec)
