# Karbonetes: the two commands a newcomer needs are `make demo` and `make test`.
# Each area of the project adds its own targets in mk/<area>.mk and appends its test target
# to TEST_TARGETS and its lint target to LINT_TARGETS; this file only ties them together.

SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BIN := $(ROOT)/bin
SWIFT ?= swift
# Debug builds for tests (fast to compile); release builds with the Swift runtime linked in
# statically for bin/ (what the container images ship: only libssl, libcrypto and libyaml stay
# shared).
SWIFT_TEST_FLAGS ?=
SWIFT_BUILD_FLAGS ?= -c release --static-swift-stdlib

# Every Swift package, in dependency order (KarbonetesDevAPI before KarbonetesKube, whose
# integration tests run its debug build).
PACKAGES := shared/KarbonetesModels shared/KarbonetesRuntime shared/KarbonetesCarbon shared/KarbonetesSignalClient shared/KarbonetesDevAPI shared/KarbonetesKube services/signal services/webhook services/controller tools/eval

TEST_TARGETS :=
LINT_TARGETS :=
BUILD_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: help install build test lint $(addprefix test-pkg-,$(subst /,_,$(PACKAGES)))

# One `test-pkg-<path with _ for />` target per package (explicit rules: make does not apply
# pattern rules to phony targets).
define PACKAGE_TEST_RULE
test-pkg-$(subst /,_,$(1)): install
	@echo "== swift test: $(1)"; set -o pipefail; cd "$(1)" && $$(SWIFT) test $$(SWIFT_TEST_FLAGS) 2>&1 | tail -n 400
endef
$(foreach package,$(PACKAGES),$(eval $(call PACKAGE_TEST_RULE,$(package))))

help: ## List the targets.
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F ':.*## ' '{printf "  %-22s %s\n", $$1, $$2}'

install: ## Install what a fresh machine lacks (Debian and PyPI packages, helm, kubectl). Idempotent.
	@bash scripts/install-deps.sh

build: install $(BUILD_TARGETS) ## Build every package in release mode and put the executables in bin/.
	@bash scripts/build.sh $(SWIFT_BUILD_FLAGS) -- $(PACKAGES)

test: install $(addprefix test-pkg-,$(subst /,_,$(PACKAGES))) $(TEST_TARGETS) lint ## Run every package's tests, the end-to-end suite and the lint checks.
	@echo "make test: all suites passed"

lint: install $(LINT_TARGETS) ## Check manifests, charts, rules, scripts and workflows with the real tools.
