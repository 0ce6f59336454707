#!/usr/bin/env bash
# Install everything the tests need into a virtual environment and run the whole suite:
# lint (ruff), types (mypy) and the tests (pytest). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${ZERO_LLM_VENV:-.venv}"
python="${PYTHON:-python3}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e '.[test]'
"$venv/bin/python" -m ruff check zero_llm chains tests
"$venv/bin/python" -m mypy
exec "$venv/bin/python" -m pytest "$@"
