"""What the emulator holds: its models, how it tokenizes, and the text it answers with.

Pure data and pure functions; the server (``zero_llm.testing.server``) drives them.
Numbers follow the real models as Ollama reports them (``/api/show``, ``/api/tags``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from zero_llm.testing.prompts import (
    DEEPSEEK_R1_TEMPLATE,
    LLAMA31_TEMPLATE,
    QWEN25_CODER_TEMPLATE,
    QWEN_SYSTEM,
)

__all__ = [
    "DEFAULT_EMULATED_MODELS",
    "EmulatedModel",
    "RegexTokenizer",
    "answer_for",
    "embedding_for",
    "instance_of_schema",
    "json_mode_object",
    "thinking_for",
]


class RegexTokenizer:
    """A deterministic stand-in tokenizer: words, single punctuation marks, and runs of space.

    Each non-ASCII character is its own token, so Hebrew and emoji cost more than ASCII,
    as they do under real byte-level BPE vocabularies.
    """

    name = "regex"
    _pattern = re.compile(
        r" ?[A-Za-z]+| ?[0-9]{1,3}|[^\x00-\x7f]| ?[^\sA-Za-z0-9\x80-\U0010ffff]|\s+"
    )

    def pieces(self, text: str) -> list[str]:
        """Split text into token pieces whose concatenation is the text."""
        return self._pattern.findall(text)

    def count(self, text: str) -> int:
        """Count the tokens of a text."""
        return len(self._pattern.findall(text))

    def count_prompt(self, prompt: str) -> int:
        """Count a rendered prompt (no special tokens, no BOS in the stand-in)."""
        return self.count(prompt)

    def vocabulary(self) -> dict[str, Any] | None:
        """Return the ``tokenizer.ggml.*`` arrays, or None when there is no real vocabulary."""
        return None


@dataclass
class EmulatedModel:
    """One model the emulator knows, with the facts Ollama reports about it."""

    name: str
    architecture: str
    family: str
    context_length: int
    parameter_size: str
    parameter_count: int
    size: int
    capabilities: tuple[str, ...] = ("completion",)
    quantization_level: str = "Q4_K_M"
    embedding_length: int = 4096
    tokenizer_pre: str = "default"
    load_seconds: float = 2.0
    tokens_per_second: float = 50.0
    block_count: int = 32
    """Transformer layers (``<arch>.block_count``)."""
    head_count: int = 32
    """Attention heads (``<arch>.attention.head_count``)."""
    head_count_kv: int = 8
    """KV heads (``<arch>.attention.head_count_kv``; fewer than heads under GQA)."""
    key_length: int | None = None
    """Per-head key size; None: ``embedding_length / head_count`` (not reported then)."""
    value_length: int | None = None
    """Per-head value size; None: as ``key_length``."""
    template: str = "{{ .Prompt }}"
    """Its Go template (``/api/show`` ``template``), rendered over each request."""
    system: str = ""
    """Its default system prompt (``/api/show`` ``system``), added when a chat has none."""
    parameters: tuple[tuple[str, Any], ...] = ()
    """Its Modelfile parameters in order, e.g. ``(("stop", "<|eot_id|>"),)``."""
    file_type: int = 15
    """``general.file_type`` (15: Q4_K_M)."""
    present: bool = True
    """False: not on disk yet, but ``/api/pull`` can fetch it."""
    vocabulary: str | None = None
    """The real vocabulary it counts with ("llama3", "qwen2"); None: the regex stand-in."""
    message_overhead: int = 4
    """Tokens a stand-in model adds per message beyond its rendered template (0 for real ones)."""
    prompt_overhead: int = 1
    """Tokens a stand-in model adds per prompt beyond its rendered template (0 for real ones)."""
    tokenizer: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.tokenizer is None:
            from zero_llm.testing.vocabularies import vocab_tokenizer

            real = vocab_tokenizer(self.vocabulary, self.tokenizer_pre) if self.vocabulary else None
            self.tokenizer = real if real is not None else RegexTokenizer()

    @property
    def digest(self) -> str:
        """A stable sha256 digest derived from the name."""
        return hashlib.sha256(self.name.encode()).hexdigest()

    @property
    def thinks(self) -> bool:
        """Whether the model has the ``thinking`` capability."""
        return "thinking" in self.capabilities

    @property
    def embeds_only(self) -> bool:
        """Whether this is an embedding model that cannot chat."""
        return "embedding" in self.capabilities and "completion" not in self.capabilities

    def details(self) -> dict[str, Any]:
        """The ``details`` object of ``/api/tags``, ``/api/show`` and ``/api/ps``."""
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }

    def model_info(self, verbose: bool) -> dict[str, Any]:
        """The ``model_info`` object of ``/api/show`` (arrays only when verbose)."""
        arch = self.architecture
        vocab = self.tokenizer.vocabulary() if verbose else None
        info: dict[str, Any] = {
            "general.architecture": arch,
            "general.parameter_count": self.parameter_count,
            "general.basename": self.name.split(":")[0],
            f"{arch}.context_length": self.context_length,
            f"{arch}.embedding_length": self.embedding_length,
            f"{arch}.block_count": self.block_count,
            f"{arch}.attention.head_count": self.head_count,
            f"{arch}.attention.head_count_kv": self.head_count_kv,
            "tokenizer.ggml.model": "gpt2",
            "tokenizer.ggml.pre": self.tokenizer_pre,
            "tokenizer.ggml.tokens": None,
            "tokenizer.ggml.token_type": None,
            "tokenizer.ggml.merges": None,
        }
        tokenizer = self.tokenizer
        if hasattr(tokenizer, "bos_token_id"):
            info["tokenizer.ggml.bos_token_id"] = tokenizer.bos_token_id
            info["tokenizer.ggml.eos_token_id"] = tokenizer.eos_token_id
            info["tokenizer.ggml.add_bos_token"] = tokenizer.add_bos_token
        info["general.file_type"] = self.file_type
        if self.key_length is not None:
            info[f"{arch}.attention.key_length"] = self.key_length
            info[f"{arch}.attention.value_length"] = self.value_length or self.key_length
        if vocab:
            info.update(vocab)
        return info

    @property
    def kv_elements_per_token(self) -> int:
        """KV cache elements per token: layers x KV heads x (key + value length)."""
        key = self.key_length or self.embedding_length // self.head_count
        value = self.value_length or key
        return self.block_count * self.head_count_kv * (key + value)

    @property
    def kv_bytes_per_token(self) -> int:
        """KV cache bytes per token at f16 (2 bytes an element)."""
        return 2 * self.kv_elements_per_token


LLAMA31_STOPS = ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")
DEEPSEEK_R1_STOPS = tuple(
    f"<\uff5c{word}\uff5c>"
    for word in ("begin\u2581of\u2581sentence", "end\u2581of\u2581sentence", "User", "Assistant")
)


def _default_models() -> list[EmulatedModel]:
    return [
        EmulatedModel(
            name="deepseek-r1:32b",
            architecture="qwen2",
            family="qwen2",
            context_length=131072,
            parameter_size="32.8B",
            parameter_count=32763876352,
            size=19851337640,
            capabilities=("completion", "thinking"),
            embedding_length=5120,
            tokenizer_pre="deepseek-r1-qwen",
            vocabulary="qwen2",
            message_overhead=0,
            prompt_overhead=0,
            template=DEEPSEEK_R1_TEMPLATE,
            parameters=(
                *(("stop", s) for s in DEEPSEEK_R1_STOPS),
                ("temperature", 0.6),
                ("top_p", 0.95),
            ),
            load_seconds=12.0,
            tokens_per_second=25.0,
            block_count=64,
            head_count=40,
            head_count_kv=8,
        ),
        EmulatedModel(
            name="llama3.1:8b",
            architecture="llama",
            family="llama",
            context_length=131072,
            parameter_size="8.0B",
            parameter_count=8030261248,
            size=4920753328,
            capabilities=("completion", "tools"),
            embedding_length=4096,
            tokenizer_pre="llama-bpe",
            vocabulary="llama3",
            message_overhead=0,
            prompt_overhead=0,
            template=LLAMA31_TEMPLATE,
            parameters=tuple(("stop", s) for s in LLAMA31_STOPS),
            load_seconds=3.0,
            tokens_per_second=60.0,
            block_count=32,
            head_count=32,
            head_count_kv=8,
        ),
        EmulatedModel(
            name="qwen2.5-coder:32b",
            architecture="qwen2",
            family="qwen2",
            context_length=32768,
            parameter_size="32.8B",
            parameter_count=32763876352,
            size=19851336256,
            capabilities=("completion", "tools", "insert"),
            embedding_length=5120,
            tokenizer_pre="qwen2",
            vocabulary="qwen2",
            message_overhead=0,
            prompt_overhead=0,
            template=QWEN25_CODER_TEMPLATE,
            system=QWEN_SYSTEM,
            load_seconds=12.0,
            tokens_per_second=25.0,
            block_count=64,
            head_count=40,
            head_count_kv=8,
        ),
        EmulatedModel(
            name="nomic-embed-text:latest",
            architecture="nomic-bert",
            family="nomic-bert",
            context_length=2048,
            parameter_size="137M",
            parameter_count=136727040,
            size=274302450,
            capabilities=("embedding",),
            quantization_level="F16",
            file_type=1,
            embedding_length=768,
            load_seconds=0.5,
            tokens_per_second=5000.0,
            block_count=12,
            head_count=12,
            head_count_kv=12,
        ),
    ]


DEFAULT_EMULATED_MODELS: tuple[str, ...] = (
    "deepseek-r1:32b",
    "llama3.1:8b",
    "qwen2.5-coder:32b",
    "nomic-embed-text:latest",
)
"""Names of the models every emulator holds unless told otherwise."""


def default_models() -> list[EmulatedModel]:
    """Return fresh copies of the default emulated models."""
    return _default_models()


_WORDS = re.compile(r"\S+")


def _gist(text: str, words: int = 24) -> str:
    found = _WORDS.findall(text)
    gist = " ".join(found[:words])
    return gist + (" ..." if len(found) > words else "")


def answer_for(model: str, messages: Sequence[dict[str, Any]]) -> str:
    """The emulator's deterministic answer: the model's name and the gist of the last user turn."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    said = _gist(str(last.get("content") or "")) if last else ""
    return f"[{model}] You said: {said}"


def thinking_for(messages: Sequence[dict[str, Any]]) -> str:
    """The emulator's deterministic thinking text for a thinking model."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    said = _gist(str(last.get("content") or ""), words=8) if last else ""
    return f"Let me think about this: {said}. I will answer plainly."


def embedding_for(text: str, dimensions: int) -> list[float]:
    """A deterministic L2-normalised embedding: hashed word counts."""
    vector = [0.0] * dimensions
    for word in _WORDS.findall(text.casefold()) or [""]:
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
        vector[h % dimensions] += 1.0 if (h >> 32) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def instance_of_schema(schema: Any, seed_text: str) -> Any:
    """Build a small value that validates against a JSON schema (for ``format`` and tool args).

    Deterministic, and led by the text as the tool rule is: ``$ref`` into ``$defs``/
    ``definitions`` followed; ``const``; an ``enum``: the first of its values the seed text
    names (a whole word, any case), else its first value; ``anyOf``/``oneOf``: the first option
    with an enum or const string the seed text names (whole, or a distinctive word of it as
    the tool rule reads tool names), else the first option holding no enum or
    const string at all (a free answer), else the first option; so a schema offering "calls to
    these tools" or "a final answer" calls a tool the text names and otherwise answers;
    ``allOf``: the options merged; an
    object gets every property (a ``name=value`` pair in the text gives its value, and the
    ``arguments`` of a ``{"name": <tool>, "arguments": ...}`` call are filled by the tool
    rule) (required ones included, nested objects and arrays built the
    same way) and a string for a required name without a property schema; an array
    ``max(1, minItems)`` items (at most ``maxItems``); numbers the middle of their bounds
    (exclusive bounds kept out, ``multipleOf`` respected); strings the gist of the seed text
    fitted to ``minLength``/``maxLength``, or a valid ``date``, ``date-time``, ``time``,
    ``email``, ``uri`` or ``uuid`` for those formats. A ``pattern`` is not followed.
    """
    if not isinstance(schema, dict):
        return {"answer": _gist(seed_text, 12)}
    defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}

    def resolve(node: Any) -> dict[str, Any]:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            node = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
        return node if isinstance(node, dict) else {}

    def merged(node: dict[str, Any]) -> dict[str, Any]:
        if not node.get("allOf"):
            return node
        out = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            part = merged(resolve(part))
            props = {**(out.get("properties") or {}), **(part.get("properties") or {})}
            required = [*(out.get("required") or []), *(part.get("required") or [])]
            out = {**part, **out, "properties": props, "required": required}
        return out

    def names(raw: Any, depth: int = 0) -> list[str]:
        """The enum and const strings anywhere inside a schema."""
        node = resolve(raw)
        if depth > 8 or not node:
            return []
        found = [v for v in node.get("enum") or [] if isinstance(v, str)]
        if isinstance(node.get("const"), str):
            found.append(node["const"])
        children = [*(node.get("properties") or {}).values(), node.get("items")]
        for key in ("anyOf", "oneOf", "allOf"):
            children += node.get(key) or []
        for child in children:
            if isinstance(child, dict):
                found += names(child, depth + 1)
        return found

    def choose(options: list[Any]) -> Any:
        named = [o for o in options if any(_picks(v, seed_text) for v in names(o))]
        if named:
            return named[0]
        return next((o for o in options if not names(o)), options[0])

    def build(raw: Any) -> Any:
        node = merged(resolve(raw))
        if "const" in node:
            return node["const"]
        if isinstance(node.get("enum"), list) and node["enum"]:
            return _named_first(node["enum"], seed_text)
        for key in ("anyOf", "oneOf"):
            if node.get(key):
                return build(choose(node[key]))
        kind = node.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in node else "array" if "items" in node else "string"
        if kind == "object":
            from zero_llm.testing.tools import arguments_for, pair_value

            props = node.get("properties") or {}
            value: dict[str, Any] = {}
            for name, sub in props.items():  # a ``name=value`` pair in the text wins
                called = value.get("name")
                if name == "arguments" and isinstance(called, str):
                    # a tool call's shape ({"name": <tool>, "arguments": {...}}): the
                    # arguments as the tool rule fills them
                    value[name] = arguments_for(called, merged(resolve(sub)), seed_text)
                    continue
                given = pair_value(name, seed_text, merged(resolve(sub)))
                value[name] = build(sub) if given is None else given
            for name in node.get("required") or []:
                value.setdefault(name, _gist(seed_text, 8) or "text")
            return value
        if kind == "array":
            count = max(1, int(node.get("minItems", 1)))
            if "maxItems" in node:
                count = min(count, int(node["maxItems"]))
            return [build(node.get("items", {"type": "string"})) for _ in range(count)]
        if kind in ("number", "integer"):
            return _number_in(node, kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return _string_for(node, seed_text)

    return build(schema)


def _named(value: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.IGNORECASE) is not None


def _picks(value: str, text: str) -> bool:
    """Whether the text names a value, whole or by a distinctive word of it.

    The tool rule reads tool names this way: ``get_price`` for "what is the price ...".
    """
    from zero_llm.testing.tools import distinctive_words

    return _named(value, text) or any(_named(w, text) for w in distinctive_words(value))


def _named_first(values: list[Any], text: str) -> Any:
    """The value the text names first (a whole word, any case), else the first value."""
    found = [
        (position.start(), i)
        for i, value in enumerate(values)
        if isinstance(value, str)
        and (position := re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.IGNORECASE))
    ]
    return values[min(found)[1]] if found else values[0]


def _number_in(node: dict[str, Any], integer: bool) -> int | float:
    lowest, highest = (
        node.get("minimum", node.get("exclusiveMinimum")),
        node.get("maximum", node.get("exclusiveMaximum")),
    )
    low = float(lowest) if lowest is not None else None
    high = float(highest) if highest is not None else None
    if low is None:
        low = high - 10 if high is not None else 0.0
    if high is None:
        high = low + 10
    middle = (low + high) / 2
    step = node.get("multipleOf") or (1 if integer else None)
    if not step:
        return middle
    value = math.ceil(middle / step) * step
    if value > high or ("exclusiveMaximum" in node and value >= high):
        value = math.floor(middle / step) * step
    return int(value) if integer else float(value)


_FORMATS = {
    "date": "2026-01-01",
    "date-time": "2026-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def _string_for(node: dict[str, Any], seed_text: str) -> str:
    if node.get("format") in _FORMATS:
        return _FORMATS[node["format"]]
    text = _gist(seed_text, 8) or "text"
    if node.get("maxLength") is not None:
        text = text[: int(node["maxLength"])]
    return text.ljust(int(node.get("minLength", 0)), "x")


_QUOTED_KEY = re.compile(r"(?<!\w)'([^'\n]+)'(?!\w)|\"([^\"\n]+)\"")


def json_mode_object(seed_text: str) -> dict[str, str]:
    """JSON mode's object: the keys named in quotes in the text (string values), else ``answer``."""
    keys = [next(g for g in m.groups() if g) for m in _QUOTED_KEY.finditer(seed_text)]
    if not keys:
        return {"answer": _gist(seed_text, 12)}
    gist = _gist(seed_text, 8)
    return {key: f"{key}: {gist}" for key in dict.fromkeys(keys)}


def structured_answer(format_: Any, messages: Sequence[dict[str, Any]]) -> str:
    """The answer text for a request with ``format``: JSON fitting the schema, or JSON mode.

    The schema's seed text is the last message's content, or, after tool results, those
    results: so a tool-or-answer schema answers once the tools have spoken.
    """
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    seed = str(last.get("content") or "") if last else ""
    if format_ == "json":
        return json.dumps(json_mode_object(seed), ensure_ascii=False)
    trailing: list[str] = []
    for m in reversed(messages):
        if m.get("role") != "tool":
            break
        trailing.insert(0, str(m.get("content") or ""))
    return json.dumps(instance_of_schema(format_, "\n".join(trailing) or seed), ensure_ascii=False)
