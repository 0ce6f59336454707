# Sourced by the scripts: make (or reuse) the virtual environment and upgrade its pip.
# Sets $venv; honours ZERO_LLM_VENV and PYTHON.
venv="${ZERO_LLM_VENV:-.venv}"
[ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
