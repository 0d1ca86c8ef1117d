# The benchmarks (not part of `make test`): `make bench-webhook` times the admission webhook
# against a Go standard-library reference; `make bench` runs every benchmark that exists
# (bench-http, bench-signal, bench-webhook, bench-controller) and writes bench/RESULTS.md.

.PHONY: bench-webhook bench

bench-webhook: install ## wrk over TLS: karbonetes-webhook vs a Go net/http webhook making the same decision, at ~100/s, ~1,000/s and saturation (last line key=value).
	@bash bench/webhook/run.sh

bench: install ## Run bench-http, bench-signal, bench-webhook and bench-controller (those defined) and write bench/RESULTS.md: machine, commands, figures beside their references.
	@bash bench/webhook/bench-all.sh
