#!/usr/bin/env bash
# Create/refresh the project virtualenv (.venv) and install the project into it.
#
#   scripts/venv.sh          -> pip install -e .
#   scripts/venv.sh dev      -> pip install -e .[dev]
#
# A stamp file in .venv records a hash of pyproject.toml (and of the package layout) and
# the extras that were installed, so repeated calls are a no-op until pyproject.toml changes.
# Override the interpreter with PYTHON=/path/to/python3.x.
set -euo pipefail

cd "$(dirname "$0")/.."

EXTRAS="${1:-}"
VENV="${VENV:-.venv}"
STAMP="$VENV/.tsconsole-install.stamp"

pick_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        echo "$PYTHON"
    elif command -v python3.11 >/dev/null 2>&1; then
        echo python3.11
    elif command -v python3 >/dev/null 2>&1; then
        echo python3
    else
        echo "venv.sh: neither python3.11 nor python3 found on PATH" >&2
        return 1
    fi
}

# A venv whose interpreter no longer runs (moved directory, removed base python) is rebuilt.
if [[ -d "$VENV" ]] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "venv.sh: $VENV is broken, recreating it" >&2
    rm -rf "$VENV"
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    py="$(pick_python)"
    echo "venv.sh: creating $VENV with $py ($("$py" --version 2>&1))"
    "$py" -m venv "$VENV"
    rm -f "$STAMP"
fi

hash_file() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        "$VENV/bin/python" -c 'import hashlib,sys;print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
    fi
}

# Key: pyproject.toml plus which top-level directories are regular packages (the editable
# install's import mapping is computed at install time and goes stale when that changes).
want_hash="$(hash_file pyproject.toml)-$(printf '%s\n' */__init__.py 2>/dev/null | cksum | cut -d' ' -f1)"
have_hash=""
have_extras=""
if [[ -f "$STAMP" ]]; then
    read -r have_hash have_extras <"$STAMP" || true
fi

# An install with extras also satisfies a request for fewer extras ("dev" covers "").
satisfied=0
if [[ "$have_hash" == "$want_hash" ]]; then
    satisfied=1
    IFS=',' read -r -a wanted <<<"$EXTRAS"
    for e in "${wanted[@]}"; do
        [[ -z "$e" ]] && continue
        [[ ",$have_extras," == *",$e,"* ]] || satisfied=0
    done
fi

if [[ "$satisfied" == 1 ]]; then
    exit 0
fi

# Keep the union of extras ever installed against this pyproject.toml hash.
all_extras="$EXTRAS"
if [[ "$have_hash" == "$want_hash" && -n "$have_extras" ]]; then
    all_extras="$(printf '%s,%s' "$have_extras" "$EXTRAS" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)"
fi

target="."
[[ -n "$all_extras" ]] && target=".[$all_extras]"

echo "venv.sh: installing -e $target into $VENV"
"$VENV/bin/python" -m pip install --quiet -e "$target"
printf '%s %s\n' "$want_hash" "$all_extras" >"$STAMP"
