# The carbon signal service (services/signal). `make bench-signal` is a benchmark, not part of
# `make test`: its last line is key=value pairs of its figures.

.PHONY: bench-signal

bench-signal: install ## wrk on /v1/signal (cached) of a release karbonetes-signal: requests/s and p99 (target p99 < 1 ms at 1,000/s).
	@bash services/signal/scripts/bench.sh
