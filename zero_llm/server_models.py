"""Any model Ollama has: a name the catalog does not know, taken from the server itself.

In: a model name, the catalog, an Ollama backend. Out: the catalog's spec for a catalog
name; for a model the server has (``/api/tags``), a spec built from its ``/api/show``
facts (``think`` when it has the ``thinking`` capability), adopted into the catalog so
every later look-up finds it; for a name neither knows, ``UnknownModelError`` with the
closest known names ("did you mean"). Nothing is pulled here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from zero_llm.catalog import Catalog, ModelSpec
from zero_llm.errors import UnknownModelError

if TYPE_CHECKING:
    from zero_llm.ollama.client import OllamaBackend

__all__ = ["full_name", "resolve_on_server", "unknown_model_error"]


def full_name(name: str) -> str:
    """Ollama's full name of a model: ``mistral`` is ``mistral:latest``."""
    name = name.strip()
    return name if ":" in name else f"{name}:latest"


def unknown_model_error(
    name: str, catalog: Catalog, server: Iterable[str], where: str
) -> UnknownModelError:
    """The error for a name neither the catalog nor the server at ``where`` knows."""
    on_server = sorted(server)
    names = [*catalog.known_names(), *on_server]
    close = difflib.get_close_matches(name.strip().casefold(), names, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    known = tuple(spec.name for spec in catalog.models.values())
    return UnknownModelError(
        f"model {name!r} is not in the catalog nor on the Ollama server at {where}{hint} "
        f"(pull it with `zero-llm pull {name}`, or add it to the settings' models table)",
        model=name,
        known=(*known, *(n for n in on_server if n not in known)),
    )


async def resolve_on_server(catalog: Catalog, backend: OllamaBackend, name: str) -> ModelSpec:
    """The spec for ``name``: the catalog's, else one for the server's model of that name."""
    try:
        return catalog.resolve(name)
    except UnknownModelError:
        pass
    present = await backend.present_models()
    wanted = full_name(name)
    if wanted not in present:
        raise unknown_model_error(name, catalog, present, backend.base_url)
    facts = await backend.show(wanted)
    spec = ModelSpec(name=wanted, think="thinking" in facts.capabilities, fallback=False)
    return catalog.adopt(spec)
