"""The resident ``zero-llm ask``: one long-lived process answers the command line's questions.

A new Python process that imports LangChain, SQLAlchemy and the ollama client and builds a
``ModelManager`` spends about a second before it can ask anything. ``zero-llm ask`` instead
hands its question to a resident process (started by the first ``ask``, gone after
``resident_idle_s`` without questions) over a Unix socket, and prints what comes back. The
client side (``request``, ``client``) uses the standard library only, so an ``ask`` costs a
bare interpreter's start-up plus the answer. ``server`` is the resident process.
"""
