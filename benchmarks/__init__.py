"""zero-llm's benchmarks: numbers measured in one run against their baselines, not tests."""
