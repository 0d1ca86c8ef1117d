public import KarbonetesHTTP
public import KarbonetesMetrics

extension Router {
    /// `/healthz` answers 200 while the process serves; `/readyz` answers 200 only while
    /// `isReady` says so (503 otherwise), so that Kubernetes stops sending traffic to a replica
    /// that cannot do its work yet without restarting it.
    public mutating func addHealthChecks(isReady: @escaping @Sendable () async -> Bool) {
        add(.get, "/healthz") { _ in .text("ok\n") }
        add(.get, "/readyz") { _ in
            await isReady() ? .text("ok\n") : .text("not ready\n", status: .serviceUnavailable)
        }
    }

    /// `/metrics` in the Prometheus text format.
    public mutating func addMetrics(_ registry: MetricsRegistry) {
        add(.get, "/metrics") { _ in
            var response = HTTPResponse.text(registry.render())
            response.headers.replaceOrAdd("Content-Type", MetricsRegistry.contentType)
            return response
        }
    }
}
