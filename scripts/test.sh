#!/usr/bin/env bash
# Install everything the tests need into a virtual environment and run the whole suite:
# lint (ruff), types (mypy) and the tests (pytest). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
"$venv/bin/python" -m pip install --quiet -e '.[test]'
"$venv/bin/python" -m ruff check zero_llm chains tests benchmarks
"$venv/bin/python" -m mypy
exec "$venv/bin/python" -m pytest "$@"
