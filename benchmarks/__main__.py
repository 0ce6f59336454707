"""Run every benchmark: ``python -m benchmarks`` (the history one needs langchain-community)."""

from __future__ import annotations

import asyncio
import importlib.util

from benchmarks import (
    agents,
    counting,
    history,
    hosts,
    overhead,
    residency,
    routing,
    startup,
    window,
)


def main() -> None:
    print("=== per-call overhead, streaming relay, concurrency, router, construction")
    asyncio.run(overhead.main())
    print("\n=== routing classifier")
    for split in routing.SPLITS:
        routing.report(split)
    print("\n=== one 24 GiB GPU, three models, three agents (memory plan and residency)")
    asyncio.run(residency.main())
    print("\n=== window fitting")
    window.main()
    print("\n=== exact prompt counts (template, tools) against round 2's count")
    counting.main()
    print("\n=== agent loops: tool policies on a 24 GiB GPU, one step against ChatOllama")
    asyncio.run(agents.main())
    print("\n=== start-up and first token from the command line")
    startup.main()
    print("\n=== three Ollama hosts: zero-llm placement vs round-robin")
    asyncio.run(hosts.main())
    print("\n=== history window load")
    if importlib.util.find_spec("langchain_community") is None:
        print("skipped: pip install langchain-community (the baseline) to run it")
    else:
        asyncio.run(history.main())


if __name__ == "__main__":
    main()
