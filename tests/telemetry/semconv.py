"""The GenAI semantic conventions v1.41.0, transcribed for the tests to check against.

From ``docs/gen-ai/gen-ai-spans.md`` (span ``gen_ai.inference.client``) and
``docs/gen-ai/gen-ai-metrics.md`` of open-telemetry/semantic-conventions at tag v1.41.0,
the last release that holds the GenAI conventions. Typed by hand from the documents, not
from zero-llm's code, so a wrong name or type on our side fails these checks.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

STRING, INT, DOUBLE, BOOL, STRINGS = "string", "int", "double", "boolean", "string[]"

SECONDS_BUCKETS = (
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
"""The explicit bucket boundaries the document gives both duration metrics."""

INFERENCE_SPAN: dict[str, tuple[str, str]] = {
    # key: (type, requirement level)
    "gen_ai.operation.name": (STRING, "required"),
    "gen_ai.provider.name": (STRING, "required"),
    "error.type": (STRING, "conditionally required"),
    "gen_ai.conversation.id": (STRING, "conditionally required"),
    "gen_ai.output.type": (STRING, "conditionally required"),
    "gen_ai.request.choice.count": (INT, "conditionally required"),
    "gen_ai.request.model": (STRING, "conditionally required"),
    "gen_ai.request.seed": (INT, "conditionally required"),
    "gen_ai.request.stream": (BOOL, "conditionally required"),
    "server.port": (INT, "conditionally required"),
    "gen_ai.request.frequency_penalty": (DOUBLE, "recommended"),
    "gen_ai.request.max_tokens": (INT, "recommended"),
    "gen_ai.request.presence_penalty": (DOUBLE, "recommended"),
    "gen_ai.request.stop_sequences": (STRINGS, "recommended"),
    "gen_ai.request.temperature": (DOUBLE, "recommended"),
    "gen_ai.request.top_k": (DOUBLE, "recommended"),
    "gen_ai.request.top_p": (DOUBLE, "recommended"),
    "gen_ai.response.finish_reasons": (STRINGS, "recommended"),
    "gen_ai.response.id": (STRING, "recommended"),
    "gen_ai.response.model": (STRING, "recommended"),
    "gen_ai.response.time_to_first_chunk": (DOUBLE, "recommended"),
    "gen_ai.usage.cache_creation.input_tokens": (INT, "recommended"),
    "gen_ai.usage.cache_read.input_tokens": (INT, "recommended"),
    "gen_ai.usage.input_tokens": (INT, "recommended"),
    "gen_ai.usage.output_tokens": (INT, "recommended"),
    "gen_ai.usage.reasoning.output_tokens": (INT, "recommended"),
    "server.address": (STRING, "recommended"),
    "gen_ai.input.messages": (STRING, "opt-in"),  # JSON text: spans take no structured values
    "gen_ai.output.messages": (STRING, "opt-in"),
    "gen_ai.system_instructions": (STRING, "opt-in"),
    "gen_ai.tool.definitions": (STRING, "opt-in"),
}
"""Every attribute of the inference span in v1.41.0, with its type and requirement level."""

OPERATION_NAMES = {
    "chat",
    "create_agent",
    "embeddings",
    "execute_tool",
    "generate_content",
    "invoke_agent",
    "invoke_workflow",
    "retrieval",
    "text_completion",
}

_CLIENT_METRIC = {
    "gen_ai.operation.name": "required",
    "gen_ai.provider.name": "required",
    "gen_ai.request.model": "conditionally required",
    "server.port": "conditionally required",
    "gen_ai.response.model": "recommended",
    "server.address": "recommended",
}
METRICS: dict[str, dict[str, Any]] = {
    "gen_ai.client.token.usage": {
        "unit": "{token}",
        "buckets": (
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
        ),
        "attributes": {**_CLIENT_METRIC, "gen_ai.token.type": "required"},
    },
    "gen_ai.client.operation.duration": {
        "unit": "s",
        "buckets": SECONDS_BUCKETS,
        "attributes": {**_CLIENT_METRIC, "error.type": "conditionally required"},
    },
    "gen_ai.client.operation.time_to_first_chunk": {
        "unit": "s",
        "buckets": SECONDS_BUCKETS,
        "attributes": dict(_CLIENT_METRIC),
    },
}


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, str):
        return STRING
    if isinstance(value, tuple | list) and all(isinstance(v, str) for v in value):
        return STRINGS
    return repr(type(value))


def check_inference_span(span: ReadableSpan) -> dict[str, Any]:
    """Assert ``span`` is a v1.41.0 inference span, attribute by attribute; its attributes."""
    attributes = dict(span.attributes or {})
    assert span.kind is SpanKind.CLIENT
    for key, (kind, level) in INFERENCE_SPAN.items():
        if level == "required":
            assert key in attributes, f"{key} is required"
        if key in attributes:
            assert _type_of(attributes[key]) == kind, f"{key} should be a {kind}"
    for key in attributes:
        if key.startswith(("gen_ai.", "server.", "error.")):
            assert key in INFERENCE_SPAN, f"{key} is not an attribute of the inference span"
    assert attributes["gen_ai.operation.name"] in OPERATION_NAMES
    operation, model = attributes["gen_ai.operation.name"], attributes["gen_ai.request.model"]
    assert span.name == f"{operation} {model}"
    assert ("server.port" in attributes) == ("server.address" in attributes)
    failed = span.status.status_code is StatusCode.ERROR
    assert failed == ("error.type" in attributes), "error.type exactly when the call failed"
    for key, value in attributes.items():  # zero-llm's own are namespaced
        assert key.startswith(("gen_ai.", "server.", "error.", "zero_llm.")), key
        assert value is not None
    return attributes


def check_metric(metric: Any) -> None:
    """Assert a client metric has the conventions' unit, buckets and attribute set."""
    expected = METRICS[metric.name]
    assert metric.unit == expected["unit"]
    assert metric.data.data_points, f"{metric.name} has no data points"
    for point in metric.data.data_points:
        assert tuple(point.explicit_bounds) == expected["buckets"]
        attributes = dict(point.attributes)
        allowed = expected["attributes"]
        assert set(attributes) <= set(allowed), set(attributes) - set(allowed)
        for key, level in allowed.items():
            if level == "required":
                assert key in attributes, f"{metric.name}: {key} is required"
        assert ("server.port" in attributes) == ("server.address" in attributes)
