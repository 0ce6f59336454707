"""The names zero-llm's telemetry uses: the GenAI semantic conventions' and its own.

Pure constants. The GenAI names follow OpenTelemetry semantic conventions **v1.41.0**, the
last release of the GenAI conventions in ``open-telemetry/semantic-conventions`` (they moved
to ``open-telemetry/semantic-conventions-genai`` afterwards, where renamed inference metrics,
``gen_ai.client.inference.*``, are still unreleased work). zero-llm's own names sit under
``zero_llm.``.
"""

from __future__ import annotations

__all__ = [
    "DURATION_BUCKETS",
    "INSTRUMENTATION_NAME",
    "OPERATION_CHAT",
    "PROVIDER_OLLAMA",
    "SEMCONV_SCHEMA_URL",
    "SEMCONV_VERSION",
    "TOKEN_BUCKETS",
]

SEMCONV_VERSION = "1.41.0"
"""The version of the OpenTelemetry semantic conventions the spans and metrics follow."""
SEMCONV_SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"
INSTRUMENTATION_NAME = "zero_llm"
"""The instrumentation scope of the tracer and meter."""

OPERATION_CHAT = "chat"
PROVIDER_OLLAMA = "ollama"

# ---------------------------------------------------------------- GenAI attributes (v1.41.0)
OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
REQUEST_STREAM = "gen_ai.request.stream"
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences"
OUTPUT_TYPE = "gen_ai.output.type"
CONVERSATION_ID = "gen_ai.conversation.id"
USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
FINISH_REASONS = "gen_ai.response.finish_reasons"
TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
TOKEN_TYPE = "gen_ai.token.type"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
TOOL_DEFINITIONS = "gen_ai.tool.definitions"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"

# ------------------------------------------------------------------- GenAI metrics (v1.41.0)
TOKEN_USAGE = "gen_ai.client.token.usage"
OPERATION_DURATION = "gen_ai.client.operation.duration"
TIME_TO_FIRST_CHUNK_METRIC = "gen_ai.client.operation.time_to_first_chunk"
TOKEN_BUCKETS = (
    1,
    4,
    16,
    64,
    256,
    1024,
    4096,
    16384,
    65536,
    262144,
    1048576,
    4194304,
    16777216,
    67108864,
)
"""The conventions' advisory bucket boundaries of ``gen_ai.client.token.usage``."""
DURATION_BUCKETS = (
    0.01,
    0.02,
    0.04,
    0.08,
    0.16,
    0.32,
    0.64,
    1.28,
    2.56,
    5.12,
    10.24,
    20.48,
    40.96,
    81.92,
)
"""The conventions' advisory bucket boundaries of the duration and first-chunk histograms."""

# ------------------------------------------------------------------- zero-llm's own
ZL_REQUEST_ID = "zero_llm.request_id"
ZL_STATUS = "zero_llm.status"
ZL_ROUTE_TASK = "zero_llm.route.task"
ZL_ROUTE_ROLE = "zero_llm.route.role"
ZL_ROUTE_METHOD = "zero_llm.route.method"
ZL_ROUTE_CONFIDENCE = "zero_llm.route.confidence"
ZL_ROUTE_STICKY = "zero_llm.route.sticky"
ZL_ROUTE_SIGNALS = "zero_llm.route.signals"
ZL_ROUTE_REASON = "zero_llm.route.reason"
ZL_ATTEMPTS = "zero_llm.attempts"
ZL_RETRIES = "zero_llm.retries"
ZL_FALLBACKS = "zero_llm.fallbacks"
ZL_FALLBACK_MODELS = "zero_llm.fallback.models"
ZL_TOOL_MODEL = "zero_llm.tool_model"
ZL_TOOL_CALLING = "zero_llm.tool_calling"
ZL_CONVERSATION_ROLE = "zero_llm.conversation_role"
ZL_QUEUE_WAIT = "zero_llm.queue.wait"
ZL_COLD_LOAD = "zero_llm.cold_load"
ZL_EVICTED = "zero_llm.cold_load.evicted"
ZL_LOAD_DURATION = "zero_llm.load.duration"
ZL_PULLED = "zero_llm.pulled"
ZL_NUM_CTX = "zero_llm.num_ctx"
ZL_PROMPT_TOKENS_COUNTED = "zero_llm.window.prompt_tokens_counted"
ZL_DROPPED_MESSAGES = "zero_llm.window.dropped_messages"
ZL_CUT_MESSAGE = "zero_llm.window.cut_message"
ZL_DROPPED_ROUNDS = "zero_llm.window.dropped_rounds"
ZL_CUT_MESSAGES = "zero_llm.window.cut_messages"
ZL_TRUNCATION_SUSPECTED = "zero_llm.window.truncation_suspected"
ZL_SIDE_CALL = "zero_llm.side_call"
ZL_ATTEMPT = "zero_llm.attempt"
ZL_BACKOFF = "zero_llm.retry.backoff"
ZL_ERROR_MESSAGE = "zero_llm.error.message"
ZL_MODEL = "zero_llm.model"
ZL_DONE_REASON = "zero_llm.done_reason"

EVENT_RETRY = "zero_llm.retry"
EVENT_FALLBACK = "zero_llm.fallback"

METRIC_LOADS = "zero_llm.model.loads"
METRIC_EVICTIONS = "zero_llm.model.evictions"
METRIC_QUEUE_WAIT = "zero_llm.queue.wait"
METRIC_FALLBACKS = "zero_llm.fallbacks"
METRIC_RETRIES = "zero_llm.retries"
METRIC_COOLDOWNS = "zero_llm.host.cooldowns"
METRIC_COOLING = "zero_llm.host.cooling"
