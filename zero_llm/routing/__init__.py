"""Routing: which model answers a request, and why.

In: an explicit task, or a request's text and the conversation's current role. Out: a
``RouteDecision``. ``router`` decides (pure); ``classifier`` is the local text classifier
its weights ship with the package; ``second_stage`` optionally asks the quick model.
"""

from __future__ import annotations

from zero_llm.routing.router import RouteDecision, route

__all__ = ["RouteDecision", "route"]
