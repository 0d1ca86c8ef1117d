public import KarbonetesMetrics
import KarbonetesModels
public import SignalCore

/// The signal service's metrics, under the names in `MetricNames.Signal` (the dashboard and
/// alert rules are written against them).
public struct SignalMetrics: Sendable {
    let requests: Counter
    let providerFetches: Counter
    let providerErrors: Counter
    let intensity: Gauge
    let green: Gauge
    let staleness: Gauge

    public init(registry: MetricsRegistry) {
        requests = registry.counter(
            MetricNames.Signal.requests, help: "Signal API requests answered, by endpoint and status code.",
            labelNames: ["endpoint", "code"])
        providerFetches = registry.counter(
            MetricNames.Signal.providerFetches, help: "Calls to a region's provider, successful or not.",
            labelNames: ["region", "provider"])
        providerErrors = registry.counter(
            MetricNames.Signal.providerErrors, help: "Provider calls that failed.", labelNames: ["region", "provider"])
        intensity = registry.gauge(
            MetricNames.Signal.intensity, help: "The region's current carbon intensity in gCO2eq/kWh.",
            labelNames: ["region"])
        green = registry.gauge(
            MetricNames.Signal.green, help: "1 while the region is green, 0 otherwise.", labelNames: ["region"])
        staleness = registry.gauge(
            MetricNames.Signal.staleness,
            help: "Age of the region's cached value in seconds (grows while the provider fails).",
            labelNames: ["region"])
    }

    /// For the cache's `onFetch`.
    public func record(_ event: FetchEvent) {
        let labels = ["region": event.region, "provider": event.provider]
        providerFetches.increment(labels: labels)
        if !event.succeeded { providerErrors.increment(labels: labels) }
    }

    func recordRequest(endpoint: String, code: Int) {
        requests.increment(labels: ["endpoint": endpoint, "code": String(code)])
    }

    /// Sets the per-region gauges from the engine's current answers; a region with no answer
    /// loses its intensity and green series rather than keeping a value it no longer knows.
    public func observe(_ engine: SignalEngine) async {
        for region in engine.regions.regions {
            let labels = ["region": region.name]
            if let signal = try? await engine.signal(region: region.name) {
                intensity.set(signal.intensity, labels: labels)
                green.set(signal.green ? 1 : 0, labels: labels)
                staleness.set(signal.ageSeconds, labels: labels)
            } else {
                intensity.remove(labels: labels)
                green.remove(labels: labels)
            }
        }
    }
}
