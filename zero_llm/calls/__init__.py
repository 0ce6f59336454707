"""Running one query against Ollama, split by job (the core calls these, in this order).

- ``profiles``: what each model is on each host (its fixed ``num_ctx``, token counter,
  prompt budget, capabilities), resolved once per (host, model), pulling a missing model.
- ``summary``: replacing the turns a window would drop by a summary: a step before the call.
- ``attempts``: fallback x retry x admission around one call, the window fitted per host.
- ``ollama_call``: one Ollama chat call with its first-token, stall and total deadlines.
- ``truncation``: comparing Ollama's prompt count with ours afterwards.
"""

from zero_llm.calls.attempts import CallRunner
from zero_llm.calls.profiles import ModelProfile, ModelProfiles

__all__ = ["CallRunner", "ModelProfile", "ModelProfiles"]
