#!/usr/bin/env bash
# Runs the named quality gates in order, times each, and prints a summary. Exit status is
# non-zero when any gate failed (every gate still runs, so one report shows all findings).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BIN=.venv/bin
COLLECTIONS=build/collections
SANITY_PARENT=build/sanity
SANITY_ROOT=$SANITY_PARENT/ansible_collections/irisops/iris
export ANSIBLE_COLLECTIONS_PATH=$PWD/$COLLECTIONS
export PATH=$PWD/$BIN:$PATH
declare -a SUMMARY=()
status=0

# ansible-test downloads pip's bootstrap script; offline we provide a stand-in that uses ensurepip.
provide_get_pip() {
  local cache=$HOME/.ansible/test/cache
  mkdir -p "$cache"
  [ -f "$cache/get_pip_25_2.py" ] || cp scripts/get_pip_offline.py "$cache/get_pip_25_2.py"
}

# ansible-test runs in en_US.UTF-8 and warns when it has to fall back to C.UTF-8: build the locale where Debian's
# locale data is installed and we may (root), else the warning stays and says why.
provide_test_locale() {
  locale -a 2>/dev/null | grep -qix 'en_US.utf8' && return 0
  localedef -i en_US -f UTF-8 en_US.UTF-8 2>/dev/null || echo "note: cannot build the en_US.UTF-8 locale (needs root and Debian's locales data)"
}

gate_sanity() {
  provide_get_pip
  provide_test_locale
  rm -rf "$SANITY_PARENT" && mkdir -p "$SANITY_ROOT"
  # The files git knows (tracked, or new and not ignored): exactly what would be committed.
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && { mkdir -p "$SANITY_ROOT/$(dirname "$f")"; cp -p "$f" "$SANITY_ROOT/$f"; }
  done
  local ansible_test=$PWD/$BIN/ansible-test python_version
  local -a import_targets
  # The venv's own interpreter (pyenv's shims refuse bare python3.X names unless pyenv selects them).
  python_version=$("$BIN/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  mapfile -t import_targets < <(import_sanity_targets)
  (cd "$SANITY_ROOT" && git init -q && git add -A \
    && "$ansible_test" sanity --python "$python_version" --color no --skip-test import \
    && "$ansible_test" sanity --python "$python_version" --color no --test import "${import_targets[@]}")
}

# ansible-test's import test runs in a venv holding only ansible-core's own requirements. The
# controller library in plugins/plugin_utils needs pydantic, aiohttp, openai, jsonschema and
# structlog at import time (requirements/runtime.txt, execution-environment.yml), so it is imported
# by pytest with those installed instead; every other plugin (modules, module_utils, action,
# callback, filter, doc fragments) must pass the import test as it is.
import_sanity_targets() {
  (cd "$SANITY_ROOT" && find plugins -name '*.py' -not -path 'plugins/plugin_utils/*' | sort)
}

gate_lint() {
  "$BIN/ansible-lint" --offline --profile production --nocolor
}

gate_mypy() {
  "$BIN/mypy" "$COLLECTIONS/ansible_collections/irisops/iris/plugins"
}

gate_pytest() {
  rm -f .coverage .coverage.*
  # -rfEs: failures, errors and skipped tests are listed, a skip with its reason (e.g. the SSH test hosts, where network namespaces are impossible).
  "$BIN/python" -m pytest -q -rfEs -p no:cacheprovider --cov --cov-report=term --cov-fail-under=85
}

# The integration subset on every ansible-core release of the Makefile's MATRIX_CORES, each from its
# venv .venv/matrix/<minor> (make matrix-venvs). pytest itself runs from .venv.
gate_matrix() {
  "$BIN/python" -m pytest -q -rfEs -p no:cacheprovider tests/matrix
}

gate_molecule() {
  local scenarios
  scenarios=$(find extensions/molecule -mindepth 1 -maxdepth 1 -type d ! -name default -printf '%f\n' 2>/dev/null | sort)
  [ -n "$scenarios" ] || { echo "no molecule scenarios"; return 0; }
  for s in $scenarios; do
    (cd extensions && "$OLDPWD/$BIN/molecule" test -s "$s") || return 1
  done
}

run_gate() {
  case $1 in
    sanity) gate_sanity ;;
    lint) gate_lint ;;
    mypy) gate_mypy ;;
    pytest) gate_pytest ;;
    molecule) gate_molecule ;;
    matrix) gate_matrix ;;
    *) echo "unknown gate $1" >&2; return 2 ;;
  esac
}

for gate in "$@"; do
  echo "==> $gate"
  start=$(date +%s)
  if run_gate "$gate"; then result=passed; else result=FAILED; status=1; fi
  SUMMARY+=("$(printf '%-9s %-7s %4ss' "$gate" "$result" "$(( $(date +%s) - start ))")")
done
echo
echo "==== summary ===="
printf '%s\n' "${SUMMARY[@]}"
exit $status
