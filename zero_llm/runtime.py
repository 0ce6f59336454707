"""The runtime: every part of zero-llm that serves a query, built in one place, in order.

In: ready settings and the sync bridge (the process-wide one unless given). Out: a
``Runtime`` holding, each built once and wired by its constructor (nothing patched after):

1. the catalog (the configured models and their roles);
2. residency (each host's memory plan and scheduler);
3. the host pool, told by residency whether a model fits on a host now;
4. model profiles (each model's ``num_ctx``, counter and budget on each host);
5. the call runner (fallback x retry x admission around one Ollama call);
6. storage (database, history, usage ledger and recorder, opened on first use);
7. the query core (route -> memory -> call -> report -> history and usage).

``ModelManager`` and ``ZeroChatModel`` both hold a runtime; a chat model built alone gets
one from the settings exactly as a manager does. Building a runtime does no I/O.

Where its connections live (``RuntimeHome``): on the sync bridge's loop, which serves
every caller's loop and the sync API (each async call hops there and back); inside
``async with`` (the runtime's or its manager's), on the loop that entered it, where async
calls run in place, with no hop, and which the block's end closes them on: the Ollama
clients and the history's database pool (``Storage``; the usage recorder writes in the
background on the bridge's loop either way). ``aclose()``
writes pending usage and closes the runtime's Ollama and database connections;
``close()`` does that from sync code, through the bridge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zero_llm.calls import CallRunner, ModelProfiles
from zero_llm.catalog import Catalog
from zero_llm.core import QueryCore
from zero_llm.home_loop import RuntimeHome
from zero_llm.ollama.hosts import HostPool, HostState
from zero_llm.residency import Residency
from zero_llm.retry import RetryPolicy
from zero_llm.settings import ZeroLLMSettings, load_settings
from zero_llm.storage import Storage
from zero_llm.sync_bridge import SyncBridge, shared_bridge
from zero_llm.sync_twins import sync_twin

__all__ = ["Runtime", "build_runtime", "runtime_from_overrides"]


@dataclass(frozen=True, eq=False)
class Runtime:
    """The wired parts of zero-llm that serve queries (see the module docstring)."""

    settings: ZeroLLMSettings
    catalog: Catalog
    residency: Residency
    hosts: HostPool
    profiles: ModelProfiles
    calls: CallRunner
    storage: Storage
    core: QueryCore
    bridge: SyncBridge
    home: RuntimeHome

    async def aclose(self) -> None:
        """Write pending usage records; close the Ollama and the database connections."""
        await self.storage.aclose()
        await self.hosts.aclose()

    close = sync_twin(aclose)

    async def __aenter__(self) -> Runtime:
        """Make the running loop own this runtime's connections until the block ends."""
        if self.home.enter():
            self.storage.changed_home()  # the history's next transaction opens a pool here
            await self.hosts.aclose()  # those on the bridge's loop: the next call opens here
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the block's connections on its loop; the bridge's loop is home again."""
        outermost = self.home.depth == 1  # a nested block leaves them open
        try:
            if outermost:
                await self.aclose()
        finally:
            self.home.leave()
            if outermost:
                self.storage.changed_home()


def build_runtime(settings: ZeroLLMSettings, bridge: SyncBridge | None = None) -> Runtime:
    """Build every part a query needs from ``settings``, once, in order (no I/O)."""
    bridge = bridge or shared_bridge()
    home = RuntimeHome(bridge)
    catalog = settings.catalog()
    residency = Residency(settings, catalog)

    def has_room(host: HostState, model: str) -> bool:
        return residency.has_room(host.url, set(host.resident), model)

    hosts = HostPool(
        settings.host_list(),
        settings.timeouts,
        home=home,
        refuse_truncation=settings.window.refuse_truncation,
        has_room=has_room,
    )
    policy = RetryPolicy(settings.retry)
    profiles = ModelProfiles(settings, residency, hosts.primary, policy)
    calls = CallRunner(settings, catalog, hosts, profiles, residency, policy)
    storage = Storage(settings, bridge, home)
    core = QueryCore(settings, catalog, hosts, profiles, calls, storage)
    return Runtime(
        settings, catalog, residency, hosts, profiles, calls, storage, core, bridge, home
    )


def runtime_from_overrides(
    settings: ZeroLLMSettings | None = None, overrides: dict[str, Any] | None = None
) -> Runtime:
    """A runtime from ready settings (``overrides`` applied on top) or from every source."""
    if settings is not None:
        return build_runtime(settings.model_copy(update=overrides) if overrides else settings)
    return build_runtime(load_settings(**(overrides or {})))
