public import KarbonetesMetrics
import KarbonetesModels

/// The webhook's metrics, registered once (names from `MetricNames.Webhook`).
public struct WebhookMetrics: Sendable {
    public let admissions: Counter
    public let duration: Histogram
    public let signalCacheAge: Gauge
    public let errors: Counter

    public init(registry: MetricsRegistry) {
        admissions = registry.counter(MetricNames.Webhook.admissions, help: "Admission requests answered, by decision.", labelNames: ["decision"])
        duration = registry.histogram(
            MetricNames.Webhook.admissionDuration, help: "Time to answer an admission request.",
            buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2])
        signalCacheAge = registry.gauge(MetricNames.Webhook.signalCacheAge, help: "Age of the cached carbon signal used for admissions.", labelNames: ["region"])
        errors = registry.counter(MetricNames.Webhook.errors, help: "Admission requests that could not be decided normally, by reason.", labelNames: ["reason"])
    }
}
