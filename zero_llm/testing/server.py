"""The emulator's HTTP side: Ollama's REST API as an aiohttp application.

In: HTTP requests shaped like Ollama's. Out: Ollama's responses — NDJSON streams with a
final chunk of counts and durations, error bodies and codes — computed from the
``EmulatorState`` (models present, models loaded, memory budget) and the armed faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from zero_llm.testing.catalog import (
    EmulatedModel,
    answer_for,
    default_models,
    embedding_for,
    thinking_for,
)
from zero_llm.testing.counting import plan_prompt_tokens
from zero_llm.testing.faults import Fault, Faults
from zero_llm.testing.prompts import parameters_text
from zero_llm.testing.scheduler import Lease, Scheduler, SchedulerBusy, SchedulerSettings
from zero_llm.testing.schema_values import structured_answer
from zero_llm.testing.tools import (
    ToolProblem,
    answer_tool_results,
    choose_tool_calls,
    validate_tool_history,
    validate_tools,
)
from zero_llm.testing.validation import (
    RequestProblem,
    check_body_types,
    check_format,
    check_options,
    int_option,
    parse_keep_alive,
    parse_think,
)

__all__ = ["EmulatorState", "RecordedRequest", "build_app", "capped_num_ctx"]

log = logging.getLogger(__name__)

OLLAMA_VERSION = "0.30.9"
MODIFIED_AT = "2026-01-01T01:00:00+00:00"
"""When the emulated models were "pulled" (fixed, so listings are deterministic)."""
FOREVER = float("inf")
NOT_JSON_LINE = b'{"model": "broken", "message": {"content": "unterminated\n'


@dataclass
class RecordedRequest:
    """One request as the emulator received it."""

    method: str
    path: str
    body: dict[str, Any] | None


@dataclass
class EmulatorState:
    """Everything the emulator knows: models on disk, the scheduler (models in memory), settings."""

    models: dict[str, EmulatedModel] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    settings: SchedulerSettings = field(default_factory=SchedulerSettings)
    """Ollama's scheduler knobs: GPU memory, num_parallel, max loaded, max queue, KV type."""
    default_num_ctx: int = 4096
    chunk_tokens: int = 1
    """Tokens per streamed chunk."""
    chunk_delay: float = 0.0
    """Real seconds slept before each streamed chunk, on top of ``time_scale``."""
    reply_override: dict[str, str] = field(default_factory=dict)
    """Model name ('*' for all) -> fixed answer text, instead of the derived one."""
    requests: deque[RecordedRequest] = field(default_factory=lambda: deque(maxlen=2000))
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    """Requests answered with a 4xx (path, status, error), for tests to assert on."""
    scheduler: Scheduler = field(init=False)

    def __post_init__(self) -> None:
        self.scheduler = Scheduler(self.settings)

    @property
    def time_scale(self) -> float:
        """Real seconds slept per simulated second of loading and generating (0: none)."""
        return self.settings.time_scale

    @classmethod
    def with_defaults(
        cls, extra: Sequence[EmulatedModel] = (), pullable: Sequence[str] = (), **kwargs: Any
    ) -> EmulatorState:
        """A state holding the default models plus ``extra``; ``pullable`` ones not yet present."""
        state = cls(**kwargs)
        for model in [*default_models(), *extra]:
            state.models[model.name] = model
        for name in pullable:
            state.models[normalize_name(name)].present = False
        return state

    def find(self, name: str) -> EmulatedModel | None:
        """The present model of that name (``:latest`` implied), or None."""
        model = self.models.get(normalize_name(name))
        return model if model is not None and model.present else None


def normalize_name(name: str) -> str:
    """Ollama's name rule: a name without a tag means ``:latest``."""
    name = name.strip()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def _iso(ts: float) -> str:
    if ts == FOREVER:
        return "2318-08-29T22:45:32.123456789Z"
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _now_iso() -> str:
    return _iso(time.time())


def _modified_at() -> str:
    return MODIFIED_AT


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _read_json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestProblem(400, f"invalid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise RequestProblem(400, "json: cannot unmarshal request body into an object")
    return body


def registry_name(name: str) -> str:
    """The full name Ollama puts in capability errors: ``registry.ollama.ai/library/x:tag``."""
    return f"registry.ollama.ai/{name if '/' in name else 'library/' + name}"


def _modelfile(model: EmulatedModel) -> str:
    """The ``modelfile`` text of ``/api/show``."""
    lines = [
        '# Modelfile generated by "ollama show"',
        "# To build a new Modelfile based on this, replace FROM with:",
        f"# FROM {model.name}",
        "",
        f"FROM {model.name}",
        f'TEMPLATE """{model.template}"""',
    ]
    lines += [f"PARAMETER {key} {value}" for key, value in model.parameters]
    if model.system:
        lines.append(f'SYSTEM """{model.system}"""')
    return "\n".join(lines) + "\n"


def capped_num_ctx(model: EmulatedModel, num_ctx: int) -> int:
    """``num_ctx`` capped at the model's own context length, with Ollama's warning."""
    if num_ctx > model.context_length > 0:
        log.warning(
            "requested context size too large for model num_ctx=%d n_ctx_train=%d",
            num_ctx,
            model.context_length,
        )
        return model.context_length
    return num_ctx


def _request_template(model: EmulatedModel, body: dict[str, Any], chat: bool) -> str | None:
    """The template a ``/api/generate`` request asks for (``raw``: none), else the model's."""
    if chat:
        return None
    if body.get("raw"):
        return "{{ .Prompt }}"
    template = body.get("template")
    return template if isinstance(template, str) and template else None


def _split(model: EmulatedModel, text: str, per_chunk: int) -> list[str]:
    pieces = model.tokenizer.pieces(text)
    if per_chunk <= 1:
        return pieces
    return ["".join(pieces[i : i + per_chunk]) for i in range(0, len(pieces), per_chunk)]


class EmulatorApp:
    """The request handlers over one ``EmulatorState``."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    # ------------------------------------------------------------------ helpers
    def _record(self, request: web.Request, body: dict[str, Any] | None) -> None:
        self.state.requests.append(RecordedRequest(request.method, request.path, body))

    def _present(self, name: Any) -> EmulatedModel:
        if not isinstance(name, str) or not name.strip():
            raise RequestProblem(400, "model is required")
        model = self.state.find(name)
        if model is None:
            raise RequestProblem(404, f"model '{name}' not found")
        return model

    def _status_fault(self, path: str) -> None:
        fault = self.state.faults.take(path, ("status",))
        if fault is not None:
            raise RequestProblem(fault.status, fault.message)

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    # ----------------------------------------------------------------- endpoints
    async def root(self, request: web.Request) -> web.Response:
        """``GET /``: the liveness text."""
        return web.Response(text="Ollama is running")

    async def version(self, request: web.Request) -> web.Response:
        """``GET /api/version``."""
        return web.json_response({"version": OLLAMA_VERSION})

    async def tags(self, request: web.Request) -> web.Response:
        """``GET /api/tags``: the models present."""
        self._record(request, None)
        models = [
            {
                "name": m.name,
                "model": m.name,
                "modified_at": _modified_at(),
                "size": m.size,
                "digest": m.digest,
                "details": m.details(),
            }
            for m in self.state.models.values()
            if m.present
        ]
        return web.json_response({"models": models})

    async def ps(self, request: web.Request) -> web.Response:
        """``GET /api/ps``: the models in memory, most recently used first."""
        self._record(request, None)
        self._status_fault(request.path)
        scheduler = self.state.scheduler
        scheduler.expire(time.time())
        models = []
        for runner in sorted(scheduler.loaded.values(), key=lambda r: -r.last_used):
            m = runner.model
            models.append(
                {
                    "name": m.name,
                    "model": m.name,
                    "size": runner.size,
                    "digest": m.digest,
                    "details": m.details(),
                    "expires_at": _iso(runner.expires_at),
                    "size_vram": runner.size_vram,
                    "context_length": runner.num_ctx,
                }
            )
        return web.json_response({"models": models})

    async def show(self, request: web.Request) -> web.Response:
        """``POST /api/show``: details, model_info (arrays when verbose), capabilities."""
        body = await _read_json(request)
        self._record(request, body)
        model = self._present(body.get("model") or body.get("name"))
        verbose = bool(body.get("verbose"))
        shown: dict[str, Any] = {
            "license": "emulated model: no weights, no license",
            "modelfile": _modelfile(model),
            "parameters": parameters_text(model.parameters),
            "template": model.template,
            "system": model.system,
            "details": model.details(),
            "model_info": model.model_info(verbose),
            "capabilities": list(model.capabilities),
            "modified_at": _modified_at(),
        }
        for key in ("parameters", "system"):  # Go's omitempty
            if not shown[key]:
                del shown[key]
        return web.json_response(shown)

    async def delete(self, request: web.Request) -> web.Response:
        """``DELETE /api/delete``: remove a model from disk (it stays pullable)."""
        body = await _read_json(request)
        self._record(request, body)
        model = self._present(body.get("model") or body.get("name"))
        model.present = False
        self.state.scheduler.forget(model.name)
        return web.Response(status=200)

    async def pull(self, request: web.Request) -> web.StreamResponse:
        """``POST /api/pull``: streamed progress (or one status) and the model becomes present."""
        body = await _read_json(request)
        self._record(request, body)
        self._status_fault(request.path)
        name = body.get("model") or body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RequestProblem(400, "model is required")
        stream = body.get("stream", True)
        model = self.state.models.get(normalize_name(name))
        if model is None:
            if not stream:
                raise RequestProblem(500, "pull model manifest: file does not exist")
            lines = [
                {"status": "pulling manifest"},
                {"error": "pull model manifest: file does not exist"},
            ]
            return await self._ndjson(request, _aiter(lines))
        progress = list(self._pull_progress(model))
        model.present = True
        if not stream:
            await self._sleep(self.state.time_scale * 0.5)
            return web.json_response({"status": "success"})
        return await self._ndjson(request, self._paced(progress, 0.05))

    def _pull_progress(self, model: EmulatedModel) -> list[dict[str, Any]]:
        layers = [
            (model.digest, model.size),
            (model.digest[::-1], 1482),
            (model.digest[1:] + "0", 148),
        ]
        out: list[dict[str, Any]] = [{"status": "pulling manifest"}]
        for digest, total in layers:
            for step in (0, 1, 2, 3, 4):
                out.append(
                    {
                        "status": f"pulling {digest[:12]}",
                        "digest": f"sha256:{digest}",
                        "total": total,
                        "completed": total * step // 4,
                    }
                )
        out += [
            {"status": "verifying sha256 digest"},
            {"status": "writing manifest"},
            {"status": "success"},
        ]
        return out

    async def _paced(self, lines: list[dict[str, Any]], seconds: float) -> AsyncIterator[Any]:
        for line in lines:
            await self._sleep(self.state.time_scale * seconds)
            yield line

    async def embed(self, request: web.Request) -> web.Response:
        """``POST /api/embed``: L2-normalised vectors for one input or a list."""
        started = time.perf_counter_ns()
        body = await _read_json(request)
        self._record(request, body)
        model = self._present(body.get("model"))
        self._status_fault(request.path)
        raw = body.get("input", [])
        inputs = ([raw] if raw else []) if isinstance(raw, str) else raw
        if not isinstance(inputs, list) or not all(isinstance(t, str) for t in inputs):
            raise RequestProblem(400, "invalid input type")
        options = body.get("options") or {}
        num_ctx = int_option(options, "num_ctx", model.context_length) or model.context_length
        num_ctx = capped_num_ctx(model, num_ctx)
        truncate = body.get("truncate", True)
        counts = [model.tokenizer.count(t) for t in inputs]
        if not truncate and any(c > num_ctx for c in counts):
            raise RequestProblem(400, "input exceeds maximum context length")
        keep_alive = parse_keep_alive(body.get("keep_alive"))
        if not inputs:  # Ollama answers an empty input at once, without loading
            return web.json_response({"model": model.name, "embeddings": []})
        lease = await self._acquire(request.path, model, num_ctx, keep_alive)
        try:
            loaded_at = time.perf_counter_ns()
            dims = body.get("dimensions") or model.embedding_length
            vectors = [embedding_for(t, int(dims)) for t in inputs]
            prompt = sum(min(c, num_ctx) for c in counts)
            await self._sleep(self.state.time_scale * prompt / model.tokens_per_second)
        finally:
            lease.release()
        return web.json_response(
            {
                "model": model.name,
                "embeddings": vectors,
                "total_duration": time.perf_counter_ns() - started,
                "load_duration": loaded_at - started,
                "prompt_eval_count": prompt,
            }
        )

    async def chat(self, request: web.Request) -> web.StreamResponse:
        """``POST /api/chat``."""
        return await self._generate(request, chat=True)

    async def generate(self, request: web.Request) -> web.StreamResponse:
        """``POST /api/generate``."""
        return await self._generate(request, chat=False)

    # ----------------------------------------------------------- generation
    async def _acquire(
        self, path: str, model: EmulatedModel, num_ctx: int, keep_alive: float
    ) -> Lease:
        """A slot of ``model`` from the scheduler (503 "server busy" when the queue is full)."""

        def slow_load() -> float:
            fault = self.state.faults.take(path, ("slow_load",))
            return fault.seconds if fault is not None else 0.0

        try:
            return await self.state.scheduler.acquire(model, num_ctx, keep_alive, slow_load)
        except SchedulerBusy as exc:
            raise RequestProblem(503, str(exc)) from exc

    async def _generate(self, request: web.Request, *, chat: bool) -> web.StreamResponse:
        started = time.perf_counter_ns()
        body = await _read_json(request)
        self._record(request, body)
        check_body_types(body, chat)
        model = self._present(body.get("model"))
        self._status_fault(request.path)
        if model.embeds_only:
            raise RequestProblem(
                400, f'"{model.name}" does not support {"chat" if chat else "generate"}'
            )
        options = body.get("options") or {}
        check_options(options)
        num_ctx = int_option(options, "num_ctx", self.state.default_num_ctx)
        if num_ctx is None or num_ctx < 1:
            raise RequestProblem(400, f"num_ctx must be positive, got {num_ctx}")
        num_ctx = capped_num_ctx(model, num_ctx)
        num_predict = int_option(options, "num_predict", None)
        keep_alive = parse_keep_alive(body.get("keep_alive"))
        think_param = parse_think(body.get("think"))
        if think_param and not model.thinks:
            raise RequestProblem(400, f'"{model.name}" does not support thinking')
        think = model.thinks and think_param is not False
        stream = body.get("stream", True) is not False
        messages = self._messages(body, chat)
        try:
            tools = validate_tools(body.get("tools")) if chat else []
            validate_tool_history(messages)
        except ToolProblem as exc:
            raise RequestProblem(400, str(exc)) from exc
        if tools and "tools" not in model.capabilities:
            raise RequestProblem(400, f"{registry_name(model.name)} does not support tools")
        suffix = "" if chat else str(body.get("suffix") or "")
        if suffix and "insert" not in model.capabilities:
            raise RequestProblem(400, f"{registry_name(model.name)} does not support insert")
        created = _now_iso()

        if not messages:  # an empty request loads or unloads the model
            if keep_alive == 0:
                self.state.scheduler.unload(model.name)
                reason = "unload"
            else:
                (await self._acquire(request.path, model, num_ctx, keep_alive)).release()
                reason = "load"
            final: dict[str, Any] = {
                "model": model.name,
                "created_at": created,
                "done": True,
                "done_reason": reason,
            }
            final.update(
                {"message": {"role": "assistant", "content": ""}} if chat else {"response": ""}
            )
            return await self._respond(request, stream, [final])

        prompt_tokens = plan_prompt_tokens(
            model,
            messages,
            num_ctx,
            body.get("truncate", True) is not False,
            tools,
            think_param,
            template=_request_template(model, body, chat),
            suffix=suffix,
        )
        answer = self._answer(request.path, model, messages, body, tools, think, num_predict)
        waiting = time.perf_counter_ns()  # the load is the wait for the model, not our work
        lease = await self._acquire(request.path, model, num_ctx, keep_alive)
        try:
            check_format(body.get("format"))  # Ollama finds a bad format once loaded: a 500
            loaded_at = time.perf_counter_ns()
            stall = self.state.faults.take(request.path, ("stall",))
            if stall is not None:
                await asyncio.sleep(stall.seconds)
            lines = self._produce(
                answer,
                lease,
                chat=chat,
                created=created,
                started=started,
                load_duration=loaded_at - waiting,
                prompt_tokens=prompt_tokens,
                chunk_delay=self.state.chunk_delay if stream else 0.0,
            )
            if not stream:
                return web.json_response(await _collect(lines, chat))
            return await self._ndjson(request, lines, request.path)
        finally:
            lease.release()

    def _answer(
        self,
        path: str,
        model: EmulatedModel,
        messages: list[dict[str, Any]],
        body: dict[str, Any],
        tools: list[dict[str, Any]],
        think: bool,
        num_predict: int | None,
    ) -> EmulatedAnswer:
        """What the model says, split into streamed pieces (pure but for the bad_json fault)."""
        thinking_text = thinking_for(messages) if think else ""
        fmt = body.get("format")
        tool_calls = choose_tool_calls(tools, messages)
        if tool_calls:
            content_text = ""
        elif self.state.faults.take(path, ("bad_json",)) is not None and fmt:
            content_text = "Sure! Here is the JSON you asked for: {stance: bullish"
        elif fmt:
            content_text = structured_answer(fmt, messages)
        else:
            override = self.state.reply_override
            content_text = (
                override.get(model.name)
                or override.get("*")
                or answer_tool_results(model.name, messages)
                or answer_for(model.name, messages)
            )
        per = self.state.chunk_tokens
        thinking = _split(model, thinking_text, per) if thinking_text else []
        content = _split(model, content_text, per)
        done_reason = "stop"
        if num_predict is not None and num_predict >= 0:
            budget = num_predict
            thinking, budget = thinking[:budget], max(0, budget - len(thinking))
            if len(content) > budget:
                content, done_reason = content[:budget], "length"
        call_tokens = (
            model.tokenizer.count(json.dumps(tool_calls, ensure_ascii=False)) if tool_calls else 0
        )
        return EmulatedAnswer(model, thinking, content, tool_calls, call_tokens, done_reason)

    async def _produce(
        self,
        answer: EmulatedAnswer,
        lease: Lease,
        *,
        chat: bool,
        created: str,
        started: int,
        load_duration: int,
        prompt_tokens: int,
        chunk_delay: float,
    ) -> AsyncIterator[dict[str, Any]]:
        """The chunks of one answer, paced in real (scaled) time, then the measured final."""
        model = answer.model
        scale = self.state.time_scale * lease.runner.speed_factor
        prompt_started = time.perf_counter_ns()
        await self._sleep(scale * prompt_tokens / (model.tokens_per_second * 20))
        eval_started = time.perf_counter_ns()
        per_token = scale / model.tokens_per_second
        # Paced against a schedule, not by sleeps added up: each sleep overshoots by the
        # event loop's granularity, which at small time scales would dwarf the model's time.
        due = time.perf_counter()
        for field_name, pieces in (("thinking", answer.thinking), ("content", answer.content)):
            for piece in pieces:
                due += per_token * model.tokenizer.count(piece) + chunk_delay
                await self._sleep(due - time.perf_counter())
                yield _chunk(model.name, chat, created, piece, field_name)
        if answer.tool_calls:  # Ollama sends the parsed calls in one chunk before the final
            due += per_token * answer.call_tokens + chunk_delay
            await self._sleep(due - time.perf_counter())
            call_chunk = _chunk(model.name, chat, created, "", "content")
            call_chunk["message"]["tool_calls"] = answer.tool_calls
            yield call_chunk
        eval_done = time.perf_counter_ns()
        final: dict[str, Any] = {
            "model": model.name,
            "created_at": created,
            "done": True,
            "done_reason": answer.done_reason,
        }
        final.update(
            {"message": {"role": "assistant", "content": ""}} if chat else {"response": ""}
        )
        final.update(
            {
                "total_duration": time.perf_counter_ns() - started,
                "load_duration": load_duration,
                "prompt_eval_count": prompt_tokens,
                "prompt_eval_duration": eval_started - prompt_started,
                "eval_count": answer.eval_count,
                "eval_duration": eval_done - eval_started,
            }
        )
        yield final

    def _messages(self, body: dict[str, Any], chat: bool) -> list[dict[str, Any]]:
        if chat:
            messages = body.get("messages") or []
            if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
                raise RequestProblem(400, "messages must be a list of objects")
            for m in messages:
                if m.get("role") not in ("system", "user", "assistant", "tool"):
                    raise RequestProblem(400, f"invalid role {m.get('role')!r}")
                if not isinstance(m.get("content") or "", str):
                    raise RequestProblem(400, "message content must be a string")
            return messages
        prompt = body.get("prompt") or ""
        if not isinstance(prompt, str):
            raise RequestProblem(400, "prompt must be a string")
        if not prompt:
            return []
        system = body.get("system") or ""
        out = [{"role": "system", "content": system}] if system else []
        return [*out, {"role": "user", "content": prompt}]

    async def _respond(
        self,
        request: web.Request,
        stream: bool,
        lines: list[dict[str, Any]],
    ) -> web.StreamResponse:
        if not stream:
            return web.json_response(lines[-1])
        return await self._ndjson(request, _aiter(lines), request.path)

    async def _ndjson(
        self,
        request: web.Request,
        lines: AsyncIterator[dict[str, Any]],
        path: str | None = None,
    ) -> web.StreamResponse:
        fault: Fault | None = None
        if path is not None:
            fault = self.state.faults.take(path, ("cut", "malformed", "error_line", "no_done"))
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/x-ndjson"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):  # the client went away mid-stream
            await self._write_lines(request, response, lines, fault)
        return response

    async def _write_lines(
        self,
        request: web.Request,
        response: web.StreamResponse,
        lines: AsyncIterator[dict[str, Any]],
        fault: Fault | None,
    ) -> None:
        sent = 0
        async for line in lines:
            if fault is not None and sent == fault.after_chunks:
                if fault.kind == "cut":
                    if request.transport is not None:
                        request.transport.abort()
                    return
                if fault.kind == "no_done":
                    break
                if fault.kind == "malformed":
                    await response.write(NOT_JSON_LINE)
                    fault = None
                elif fault.kind == "error_line":
                    await response.write(json.dumps({"error": fault.message}).encode() + b"\n")
                    break
            await response.write(json.dumps(line).encode() + b"\n")
            sent += 1
        await response.write_eof()


@dataclass
class EmulatedAnswer:
    """What a model answers to one request, before pacing: pieces, tool calls, counts."""

    model: EmulatedModel
    thinking: list[str]
    content: list[str]
    tool_calls: list[dict[str, Any]]
    call_tokens: int
    done_reason: str

    @property
    def eval_count(self) -> int:
        """Tokens generated: thinking, content and the tool calls."""
        pieces = (*self.thinking, *self.content)
        return sum(self.model.tokenizer.count(p) for p in pieces) + self.call_tokens


def _chunk(model: str, chat: bool, created: str, piece: str, field_name: str) -> dict[str, Any]:
    if chat:
        msg = {"role": "assistant", "content": piece if field_name == "content" else ""}
        if field_name == "thinking":
            msg["thinking"] = piece
        return {"model": model, "created_at": created, "message": msg, "done": False}
    return {
        "model": model,
        "created_at": created,
        "response": piece if field_name == "content" else "",
        **({"thinking": piece} if field_name == "thinking" else {}),
        "done": False,
    }


async def _collect(lines: AsyncIterator[dict[str, Any]], chat: bool) -> dict[str, Any]:
    """The non-streamed response: the pieces joined into the final chunk."""
    text: list[str] = []
    thought: list[str] = []
    calls: list[dict[str, Any]] = []
    final: dict[str, Any] = {}
    async for line in lines:
        if line["done"]:
            final = line
            continue
        part = line["message"] if chat else line
        text.append(part.get("content" if chat else "response") or "")
        thought.append(part.get("thinking") or "")
        calls.extend(part.get("tool_calls") or [])
    if chat:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(text)}
        if any(thought):
            message["thinking"] = "".join(thought)
        if calls:
            message["tool_calls"] = calls
        final["message"] = message
    else:
        final["response"] = "".join(text)
        if any(thought):
            final["thinking"] = "".join(thought)
    return final


async def _aiter(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


def _problems(state: EmulatorState) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except RequestProblem as problem:
            if 400 <= problem.status < 500:
                state.rejected.append((request.path, problem.status, problem.message))
            return _error(problem.status, problem.message)
        return response

    return middleware


def build_app(state: EmulatorState) -> web.Application:
    """Build the aiohttp application that serves Ollama's API over ``state``."""
    handlers = EmulatorApp(state)
    app = web.Application(middlewares=[_problems(state)], client_max_size=1024**3)
    app.router.add_get("/", handlers.root)
    app.router.add_get("/api/version", handlers.version)
    app.router.add_get("/api/tags", handlers.tags)
    app.router.add_get("/api/ps", handlers.ps)
    app.router.add_post("/api/show", handlers.show)
    app.router.add_post("/api/pull", handlers.pull)
    app.router.add_delete("/api/delete", handlers.delete)
    app.router.add_post("/api/delete", handlers.delete)
    app.router.add_post("/api/embed", handlers.embed)
    app.router.add_post("/api/chat", handlers.chat)
    app.router.add_post("/api/generate", handlers.generate)
    return app
