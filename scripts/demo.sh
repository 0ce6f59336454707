#!/usr/bin/env bash
# Install zero-llm into a fresh virtual environment and ask one routed, streamed question:
# to the Ollama at OLLAMA_HOST if one answers, else to the built-in emulator (said clearly).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
"$venv/bin/python" -m pip install --quiet -e '.[emulator]'  # the emulator answers when no Ollama does
exec "$venv/bin/zero-llm" demo "$@"
