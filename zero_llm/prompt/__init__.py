"""The prompt a model reads: Go templates, Ollama's rendering rules, and exact counts of it."""
