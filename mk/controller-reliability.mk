# The controller's reliability suite and benchmark (tests/controller-reliability, bench/controller).
# The suite runs the real karbonetes-controller, karbonetes-devapi and karbonetes-signal binaries
# as subprocesses, the controller's API traffic through a recording proxy that counts every write
# to every Job.
#   make test-controller-reliability       compressed (200 Jobs, 5 kills; about 2 minutes): part of `make test`
#   make test-controller-reliability-full  issue 7's sizes (1,000 Jobs, 20 kills): not part of `make test`
#   make bench-controller                  10,000 and 1,000 held Jobs released at a green flip (release builds)
# Sizes: RELIABILITY_JOBS, RELIABILITY_KILLS; RELIABILITY_SEED replays a run's kill moments
# (its `seed=` line); KARBONETES_RELIABILITY_KEEP=1 keeps every process's log in $TMPDIR.

RELIABILITY_PACKAGE := tests/controller-reliability
RELIABILITY_JOBS ?= 200
RELIABILITY_KILLS ?= 5

.PHONY: controller-reliability-binaries test-controller-reliability test-controller-reliability-full bench-controller

controller-reliability-binaries: install
	@echo "== building karbonetes-controller, karbonetes-devapi, karbonetes-signal (debug)"
	@$(SWIFT) build --package-path services/controller --product karbonetes-controller 2>&1 | tail -n 1
	@$(SWIFT) build --package-path shared/KarbonetesDevAPI --product karbonetes-devapi 2>&1 | tail -n 1
	@$(SWIFT) build --package-path services/signal --product karbonetes-signal 2>&1 | tail -n 1

test-controller-reliability: controller-reliability-binaries ## Controller reliability, compressed: kill -9, leader failover, API faults, signal down (real binaries).
	@echo "== swift test: $(RELIABILITY_PACKAGE) ($(RELIABILITY_JOBS) Jobs, $(RELIABILITY_KILLS) kills)"
	@set -o pipefail; cd $(RELIABILITY_PACKAGE) && KARBONETES_RELIABILITY_JOBS=$(RELIABILITY_JOBS) KARBONETES_RELIABILITY_KILLS=$(RELIABILITY_KILLS) \
		$(if $(RELIABILITY_SEED),KARBONETES_RELIABILITY_SEED=$(RELIABILITY_SEED)) $(SWIFT) test $(SWIFT_TEST_FLAGS) 2>&1 | grep -v '^◇' | tail -n 200

test-controller-reliability-full: ## Controller reliability at issue 7's sizes: 1,000 Jobs, kill -9 20 times (several minutes; not in make test).
	@$(MAKE) --no-print-directory test-controller-reliability RELIABILITY_JOBS=1000 RELIABILITY_KILLS=20

bench-controller: install ## 10,000 held Jobs released at a green flip: time, writes per Job, peak RSS, rate vs raw patch rate (last line key=value).
	@bash bench/controller/run.sh

TEST_TARGETS += test-controller-reliability
