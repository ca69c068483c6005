#!/usr/bin/env bash
# DeepSparse (Neural Magic), the sparse CPU engine the benchmarks compare against, in its own virtual
# environment: deepsparse 1.8.0 is the last release with a CPython 3.11 manylinux wheel (1.9.0 is
# source-only and does not build) and it needs numpy<2, which the project's environment does not
# have. The benchmarks time it in a worker process (benchmarks/deepsparse_worker.py) run by this
# venv's python. Usage: benchmarks/setup_deepsparse.sh [VENV_DIR] (default benchmarks/.venv-deepsparse).
set -euo pipefail
cd "$(dirname "$0")"
VENV="${1:-.venv-deepsparse}"
PY="${PYTHON:-python3}"
"$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || { echo "setup_deepsparse.sh: deepsparse 1.8.0 has wheels for CPython 3.8-3.11; $PY is $("$PY" --version)" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
export NM_DISABLE_ANALYTICS=1
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q 'deepsparse==1.8.0' 'numpy<2' onnx
"$VENV/bin/python" -c 'import deepsparse, numpy; print("deepsparse", deepsparse.__version__, "numpy", numpy.__version__)'
