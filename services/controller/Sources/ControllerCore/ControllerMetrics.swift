public import KarbonetesMetrics
import KarbonetesModels

/// The controller's metrics (names from `MetricNames.Controller`).
public struct ControllerMetrics: Sendable {
    public let heldJobs: Gauge
    public let releases: Counter
    public let releaseDelay: Histogram
    public let releasePastDeadline: Histogram
    public let heldPastDeadline: Gauge
    public let reconcileErrors: Counter
    public let emissionsAvoided: Counter
    public let isLeader: Gauge
    public let eventsDropped: Counter

    public init(registry: MetricsRegistry) {
        heldJobs = registry.gauge(MetricNames.Controller.heldJobs, help: "Jobs held for a greener window.", labelNames: ["namespace", "policy"])
        releases = registry.counter(MetricNames.Controller.releases, help: "Held Jobs released, by reason and pool.", labelNames: ["reason", "pool"])
        releaseDelay = registry.histogram(
            MetricNames.Controller.releaseDelay, help: "Time from a Job's submission to its release.",
            buckets: [60, 300, 900, 1800, 3600, 7200, 14_400, 21_600, 43_200, 86_400])
        releasePastDeadline = registry.histogram(
            MetricNames.Controller.releasePastDeadline, help: "How late past its deadline a Job was released (should be about 0).",
            buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300])
        heldPastDeadline = registry.gauge(MetricNames.Controller.heldPastDeadline, help: "Held Jobs whose deadline has passed (should stay 0).")
        reconcileErrors = registry.counter(MetricNames.Controller.reconcileErrors, help: "Reconciles that failed and will be retried.")
        emissionsAvoided = registry.counter(
            MetricNames.Controller.emissionsAvoided,
            help: "Estimated gCO2eq avoided: (intensity at submission - intensity at release) x the Job's energy estimate.")
        isLeader = registry.gauge(MetricNames.Controller.isLeader, help: "1 while this replica leads and writes.")
        eventsDropped = registry.counter(MetricNames.Controller.eventsDropped, help: "Kubernetes Events not written because the recorder's buffer was full.")
    }
}
