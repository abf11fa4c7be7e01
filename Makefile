# irisops.iris — every set-up step and quality gate, runnable on a fresh machine.
#   make test    venv (if needed) + SSH test hosts + matrix venvs + sanity, lint, mypy, pytest+coverage,
#                molecule, matrix (the ansible-core version matrix)
#   make demo    venv (if needed) + emulated instances + generate -> publish -> remediate
#   make bench   benchmarks (figures as ratios to a baseline measured in the same run)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
BUILD := build
COLLECTIONS := $(BUILD)/collections
SANITY_ROOT := $(BUILD)/sanity/ansible_collections/irisops/iris
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements/runtime.txt requirements/lock.txt requirements/dev.txt
# The ansible-core releases the version matrix runs (the newest patch of every minor runtime.txt allows),
# each in its own venv .venv/matrix/<minor> on Python 3.12 (the newest Python ansible-core 2.17 supports).
MATRIX_CORES := 2.17.14 2.18.19 2.19.14 2.20.10 2.21.5
MATRIX_VENVS := $(foreach core,$(MATRIX_CORES),$(VENV)/matrix/$(basename $(core))/.installed)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)
export PATH := $(CURDIR)/$(BIN):$(PATH)

# ansible-core 2.21 needs Python >= 3.12 on the controller: an explicit PYTHON=, then python3.13 /
# python3.12 on PATH, then pyenv's installed versions (its shims refuse unless pyenv selects them).
define find_python
for candidate in $(PYTHON) python3.13 python3.12 \
    $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3.1[2-9] 2>/dev/null | sort -Vr); do \
  path=$$(command -v "$$candidate" 2>/dev/null) || continue; \
  "$$path" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$$path"; exit 0; }; \
done; exit 1
endef

# Python 3.12 for the matrix venvs: PYTHON312=, then python3.12 on PATH, then pyenv's 3.12.
define find_python312
for candidate in $(PYTHON312) python3.12 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 2>/dev/null | sort -Vr); do \
  path=$$(command -v "$$candidate" 2>/dev/null) || continue; \
  "$$path" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null && { echo "$$path"; exit 0; }; \
done; exit 1
endef

.PHONY: help
help:
	@echo "make test   - set up .venv, the SSH test hosts and the matrix venvs, run every quality gate"
	@echo "make matrix - the integration subset on every ansible-core minor in MATRIX_CORES"
	@echo "make test-hosts / test-hosts-down - the SSH test hosts (network namespaces; needs root)"
	@echo "make demo   - set up .venv, start emulated IRIS instances, run generate -> publish -> remediate"
	@echo "make bench  - run the benchmarks in tests/bench"
	@echo "make contracts - regenerate contracts/*.schema.json from the models"

$(STAMP): $(REQUIREMENTS)
	@py=$$($(find_python)) || { echo "ERROR: no Python >= 3.12 found (ansible-core 2.21 needs it)." \
	  "Install one or pass PYTHON=/path/to/python3.12." >&2; exit 1; }; \
	echo "==> creating $(VENV) with $$py"; \
	"$$py" -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $@

.PHONY: venv
venv: $(STAMP) $(COLLECTIONS)/ansible_collections/irisops/iris

# ansible-playbook and the tests find this checkout as the collection irisops.iris through this link.
$(COLLECTIONS)/ansible_collections/irisops/iris:
	@mkdir -p $(@D) && ln -sfn $(CURDIR) $@

.PHONY: contracts
contracts: venv
	$(BIN)/python -c 'import sys; sys.path.insert(0, "$(COLLECTIONS)"); \
	from ansible_collections.irisops.iris.plugins.plugin_utils.contracts import write_contracts; \
	[print("wrote", p) for p in write_contracts()]'

# One venv per ansible-core minor of the matrix: runtime.txt at lock.txt's pins, that minor's ansible-core.
# Made after .venv (whose re-creation clears them, and they are rebuilt).
$(VENV)/matrix/%/.installed: requirements/runtime.txt requirements/lock.txt | $(STAMP)
	@py=$$($(find_python312)) || { echo "ERROR: no Python 3.12 found for the matrix venvs" \
	  "(ansible-core 2.17 supports controller Python 3.10-3.12). Pass PYTHON312=/path/to/python3.12." >&2; exit 1; }; \
	core=$(filter $*.%,$(MATRIX_CORES)); dir=$(VENV)/matrix/$*; \
	echo "==> creating $$dir with $$py and ansible-core $$core"; \
	"$$py" -m venv --clear "$$dir" && \
	grep -v '^ansible-core' requirements/lock.txt > "$$dir/constraints.txt" && \
	"$$dir/bin/python" -m pip install --quiet --disable-pip-version-check \
	  -r requirements/runtime.txt -c "$$dir/constraints.txt" "ansible-core==$$core"
	@touch $@

.PHONY: matrix-venvs
matrix-venvs: $(MATRIX_VENVS)

# --- SSH test hosts (network namespaces with sshd; see scripts/test-hosts.sh) ----------------
.PHONY: test-hosts test-hosts-down
test-hosts:
	@bash scripts/test-hosts.sh up

test-hosts-down:
	@bash scripts/test-hosts.sh down

# --- quality gates ---------------------------------------------------------------------------
.PHONY: test sanity lint mypy pytest molecule matrix
test: venv test-hosts matrix-venvs
	@MATRIX_CORES="$(MATRIX_CORES)" bash scripts/run-gates.sh sanity lint mypy pytest molecule matrix

sanity lint mypy molecule: venv
	@bash scripts/run-gates.sh $@

pytest: venv test-hosts
	@bash scripts/run-gates.sh $@

matrix: venv matrix-venvs
	@MATRIX_CORES="$(MATRIX_CORES)" bash scripts/run-gates.sh $@

.PHONY: bench
# Each benchmark is a script printing its figures (ratios to a baseline measured in the same run).
bench: venv
	@for script in tests/bench/bench_*.py; do echo "==> $$script"; $(BIN)/python "$$script"; done

.PHONY: demo
demo: venv
	@bash scripts/demo.sh

.PHONY: clean
clean:
	rm -rf $(BUILD) .pytest_cache .mypy_cache .coverage .coverage.* htmlcov tests/output
