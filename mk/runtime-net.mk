# The shared runtime's networking (HTTP server and client, TLS). Its tests run with the
# package's (test-pkg-shared_KarbonetesRuntime); this file adds only the benchmark.

.PHONY: bench-http

bench-http: install ## Benchmark the runtime's HTTPS server against nginx and Go's net/http with wrk (not part of make test).
	@bash bench/http/run.sh
