"""Everything that speaks to Ollama.

The client (lifecycle and chat over the public ``ollama`` API), the message conversion
between LangChain and Ollama, and the one boundary where transport and Ollama errors
become zero_llm errors.
"""
