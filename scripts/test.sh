#!/usr/bin/env bash
# Install everything the tests need and run the whole suite: lint (ruff), types (mypy)
# and the tests (pytest), which start their own PostgreSQL server. Extra arguments go to
# pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# PostgreSQL's server binaries (Debian's postgresql package) for the history tests.
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
fi

# Go's own text/template, encoding/json and fmt: the independent reference the prompt
# renderer is checked against (tests/prompt/go_reference). Debian's golang-go.
if ! command -v go >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq golang-go >/dev/null
fi

. scripts/_venv.sh
"$venv/bin/python" -m pip install --quiet -e '.[test,docs]'
"$venv/bin/python" -m ruff check zero_llm chains tests benchmarks
"$venv/bin/python" -m mypy
# The documentation site, warnings as errors (a broken link or reference fails the run;
# not --quiet: it hides the warnings strict mode counts).
"$venv/bin/python" -m mkdocs build --strict --site-dir "$(mktemp -d)"
exec "$venv/bin/python" -m pytest "$@"
