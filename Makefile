# hostfw.netfilter development targets. Every target is idempotent; `make test`
# runs the whole suite (setup included) and stops at the first failure.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= $(CURDIR)/.venv
export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/build/collections
export ANSIBLE_NOCOLOR := 1
PYTEST ?= $(VENV)/bin/pytest

.PHONY: help setup collection-link lab-images lint sanity unit kernel integration molecule bench bench-quick explain-proof test demo build clean

help:
	@echo "make demo   - the lab demo (sets everything up first)"
	@echo "make test   - the whole test suite: setup lint sanity unit kernel integration bench-quick molecule"
	@echo "other targets: setup lab-images lint sanity unit kernel integration molecule bench build clean"

setup:
	@scripts/setup.sh

# The collection is used from the working tree through a symlink
# build/collections/ansible_collections/hostfw/netfilter -> repository root.
collection-link:
	@mkdir -p build/collections/ansible_collections/hostfw
	@ln -sfn $(CURDIR) build/collections/ansible_collections/hostfw/netfilter

lab-images:
	@scripts/lab-images.sh

# lint-imports checks the import contracts of plugins/module_utils ([tool.importlinter]
# in pyproject.toml) on the collection as imported through the collection-link symlink;
# check_shape.py keeps files under plugins/ <= 400 lines and functions <= 60.
lint: collection-link
	ruff check plugins tests scripts extensions
	ruff format --check plugins tests scripts extensions
	PYTHONPATH=$(CURDIR)/build/collections lint-imports --no-logo --no-cache pyproject.toml
	$(VENV)/bin/python scripts/check_shape.py
	yamllint -s .
	ansible-lint --nocolor

sanity:
	@scripts/sanity.sh

# tests/unit: pure tests, one folder per layer of the code; tests/kernel: the kernel judges
# the model in network namespaces (needs root and the iptables tools; skipped otherwise).
unit: collection-link
	$(PYTEST) -q tests/unit

kernel: collection-link
	$(PYTEST) -q tests/kernel

integration: collection-link
	$(PYTEST) -q tests/integration

molecule: collection-link lab-images
	@scripts/molecule.sh

bench: collection-link
	$(VENV)/bin/python tests/perf/bench.py

bench-quick: collection-link
	$(VENV)/bin/python tests/perf/bench.py --quick --out tests/perf/output/quick

# The packet evaluator against the kernel, the full run (>= 5,000 packet x ruleset pairs,
# both variants and families, needs root): writes docs/explain.md. The quick run is part
# of `make kernel` (tests/kernel/eval/test_explain_proof.py).
explain-proof: collection-link
	$(VENV)/bin/python scripts/explain_proof.py --out docs/explain.md

test: setup
	$(MAKE) lint
	$(MAKE) sanity
	$(MAKE) unit
	$(MAKE) kernel
	$(MAKE) integration
	$(MAKE) bench-quick
	$(MAKE) molecule

demo: setup collection-link lab-images
	@scripts/demo.sh

build:
	$(VENV)/bin/ansible-galaxy collection build --force --output-path build/ .

clean:
	rm -rf build .pytest_cache .ruff_cache .hypothesis tests/output
