"""OpenTelemetry spans and metrics of every model call, by the GenAI semantic conventions.

In: the application's tracer and meter providers (global, or passed with ``instrument``).
Out: one ``chat {model}`` CLIENT span per call, child of the caller's span, with the
conventions' ``gen_ai.*`` attributes and zero-llm's ``zero_llm.*`` (route, retries,
fallbacks, queue wait, cold load, window), and the metrics ``gen_ai.client.token.usage``,
``gen_ai.client.operation.duration``, ``gen_ai.client.operation.time_to_first_chunk`` plus
zero-llm's own counters (``metrics``). Conventions followed: v1.41.0 (``names``).

Optional: ``pip install 'zero-llm[otel]'``. Without ``opentelemetry-api``, or without a
configured provider, a call pays two flag checks (``switch``).

- ``names``: attribute, metric and event names, bucket boundaries;
- ``attributes``: a call's attributes, events and content as data (pure);
- ``spans``: the span around each call and its parent context;
- ``metrics``: the instruments and what one call records on them;
- ``switch``: on or off, decided once per manager; ``instrument``.
"""

from zero_llm.telemetry.names import SEMCONV_VERSION
from zero_llm.telemetry.switch import TelemetrySwitch, instrument, otel_installed

__all__ = ["SEMCONV_VERSION", "TelemetrySwitch", "instrument", "otel_installed"]
