"""Whether a manager's calls are observed: decided once, at its first call, for nothing.

In: the manager's settings, catalog and host pool; the application's OpenTelemetry tracer
and meter providers, given with ``instrument(manager, ...)`` or set globally
(``opentelemetry.trace.set_tracer_provider`` / ``metrics.set_meter_provider``). Out: a
``CallTelemetry`` the core hands every call to, or None.

Telemetry is off, and costs two flag checks per call, when ``opentelemetry-api`` is not
installed, when ``settings.telemetry`` is false, or when neither provider was configured by
the first call (the API's own proxy and no-op providers count as none). Nothing here
imports ``opentelemetry`` until that first call, and only if it is installed.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from typing import TYPE_CHECKING, Any

from zero_llm.catalog import Catalog
from zero_llm.ollama.hosts import HostPool
from zero_llm.settings import ZeroLLMSettings

if TYPE_CHECKING:
    from zero_llm.manager import ModelManager
    from zero_llm.telemetry.spans import CallTelemetry

__all__ = ["TelemetrySwitch", "instrument", "otel_installed"]

log = logging.getLogger(__name__)

_API_PACKAGES = ("opentelemetry.trace", "opentelemetry.metrics")
"""Where the API's own proxy and no-op providers live: such a provider means none is set."""


def otel_installed() -> bool:
    """Whether ``opentelemetry-api`` can be imported (``pip install 'zero-llm[otel]'``)."""
    try:
        return importlib.util.find_spec("opentelemetry.trace") is not None
    except ModuleNotFoundError:
        return False


def _configured(provider: Any) -> Any:
    """The provider when an application configured it, else None."""
    if provider is None:
        return None
    module = type(provider).__module__
    return None if module.startswith(_API_PACKAGES) else provider


class TelemetrySwitch:
    """The telemetry of one manager's calls, resolved at its first call.

    Args:
        settings: the manager's settings (``telemetry``, ``log_content``).
        catalog: the manager's models.
        hosts: the manager's Ollama hosts (reported per host in the metrics).
    """

    def __init__(self, settings: ZeroLLMSettings, catalog: Catalog, hosts: HostPool) -> None:
        self._settings = settings
        self._catalog = catalog
        self._hosts = hosts
        self._lock = threading.Lock()
        self._resolved = False
        self._telemetry: CallTelemetry | None = None
        self._tracer_provider: Any = None
        self._meter_provider: Any = None

    def active(self) -> CallTelemetry | None:
        """The call telemetry, or None when it is off (decided once)."""
        if self._resolved:
            return self._telemetry
        with self._lock:
            if not self._resolved:
                self._telemetry = self._safely_resolved()
                self._resolved = True
        return self._telemetry

    def configure(self, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        """Use these providers (None: the global one of that signal); decided again now."""
        with self._lock:
            self._tracer_provider = tracer_provider
            self._meter_provider = meter_provider
            self._telemetry = self._safely_resolved()
            self._resolved = True

    def _safely_resolved(self) -> CallTelemetry | None:
        """``_resolve``, off (and logged) if a provider misbehaves: telemetry never fails a call."""
        try:
            return self._resolve()
        except Exception as exc:
            log.error("OpenTelemetry is off for this manager: %s: %s", type(exc).__name__, exc)
            return None

    def _resolve(self) -> CallTelemetry | None:
        if not self._settings.telemetry or not otel_installed():
            return None
        from opentelemetry import metrics, trace

        tracer_provider = _configured(self._tracer_provider or trace.get_tracer_provider())
        meter_provider = _configured(self._meter_provider or metrics.get_meter_provider())
        if tracer_provider is None and meter_provider is None:
            return None
        from zero_llm.telemetry.metrics import metrics_for
        from zero_llm.telemetry.spans import CallTelemetry

        version = _version()
        call_metrics = None
        if meter_provider is not None:
            call_metrics = metrics_for(meter_provider, version)
            call_metrics.watch(self._hosts)
        hosts = self._hosts.hosts
        return CallTelemetry(
            tracer_provider,
            call_metrics,
            self._catalog,
            log_content=self._settings.log_content,
            single_host=hosts[0].url if len(hosts) == 1 else None,
            version=version,
        )


def _version() -> str:
    """zero-llm's installed version (the instrumentation scope's)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("zero-llm")
    except PackageNotFoundError:
        return "0"


def instrument(
    manager: ModelManager,
    *,
    tracer_provider: Any = None,
    meter_provider: Any = None,
) -> bool:
    """Send ``manager``'s spans and metrics to these providers (None: the global ones).

    Needed only to pass providers explicitly, or when the global providers were set after
    the manager's first call. Returns whether telemetry is now on.
    """
    switch = manager.core.telemetry
    switch.configure(tracer_provider, meter_provider)
    return switch.active() is not None
