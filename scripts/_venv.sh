# Sourced by scripts/serve and scripts/test: make .venv (once, and again when pyproject.toml changes)
# and install Engram into it. Needs only Python 3.11+.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
VENV="${VENV:-$ROOT/.venv}"
STAMP="$VENV/.installed"

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "engram: Python 3.11 or newer is needed (found: $("$PY" --version 2>&1))" >&2
    exit 1
fi
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
        # Debian and Ubuntu ship venv separately.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            "$PY" -m venv "$VENV"
        else
            echo "engram: '$PY -m venv' failed; install your distribution's python3-venv package" >&2
            exit 1
        fi
    fi
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet -e ".[dev]"
    touch "$STAMP"
fi
