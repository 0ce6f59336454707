"""``python -m zero_llm.cli``: the ``zero-llm`` command."""

from zero_llm.cli import main

main()
