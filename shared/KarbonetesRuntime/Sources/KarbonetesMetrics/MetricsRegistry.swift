import Synchronization

/// The set of metrics one process exposes at `/metrics`.
///
/// A service makes one registry at start-up and hands it to the parts that count things, so
/// that tests can make their own and look at exactly what one part recorded. Asking twice for
/// the same name and kind returns the same metric, so two parts that both count requests do
/// not need to agree on who creates the counter.
public final class MetricsRegistry: Sendable {
    /// The `Content-Type` of ``render()``: Prometheus' text exposition format 0.0.4.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let metrics = Mutex<[String: any RegisteredMetric]>([:])

    public init() {}

    /// A monotonically increasing count. By Prometheus' convention its name ends in `_total`.
    public func counter(_ name: String, help: String, labelNames: [String] = []) -> Counter {
        register(name) { Counter(name: name, help: help, labelNames: labelNames) }
    }

    /// A value that goes up and down: queue lengths, held Jobs, the current carbon intensity.
    public func gauge(_ name: String, help: String, labelNames: [String] = []) -> Gauge {
        register(name) { Gauge(name: name, help: help, labelNames: labelNames) }
    }

    /// A distribution of observations (latencies, delays), counted into cumulative buckets.
    public func histogram(
        _ name: String,
        help: String,
        labelNames: [String] = [],
        buckets: [Double] = Histogram.defaultBuckets
    ) -> Histogram {
        register(name) { Histogram(name: name, help: help, labelNames: labelNames, buckets: buckets) }
    }

    /// Every metric in the text exposition format 0.0.4: metrics sorted by name, series sorted
    /// by their label values, so that two renders of the same state are byte for byte equal.
    public func render() -> String {
        let snapshot = metrics.withLock { Array($0.values) }
        var out = ""
        for metric in snapshot.sorted(by: { $0.name < $1.name }) {
            metric.render(into: &out)
        }
        return out
    }

    private func register<Metric: RegisteredMetric>(_ name: String, make: () -> Metric) -> Metric {
        precondition(MetricName.isValidMetricName(name), "invalid Prometheus metric name \(name)")
        return metrics.withLock { metrics in
            if let existing = metrics[name] {
                guard let same = existing as? Metric else {
                    preconditionFailure(
                        "metric \(name) is already registered as a \(existing.kind), not a \(Metric.kindName)"
                    )
                }
                return same
            }
            let metric = make()
            metrics[name] = metric
            return metric
        }
    }
}

/// What the registry needs from each kind of metric.
protocol RegisteredMetric: Sendable {
    static var kindName: String { get }
    var name: String { get }
    var kind: String { get }
    func render(into out: inout String)
}

extension RegisteredMetric {
    var kind: String { Self.kindName }
}

/// Name rules from the Prometheus data model.
enum MetricName {
    static func isValidMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !isDigit(first) else { return false }
        return name.utf8.allSatisfy {
            isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":")
        }
    }

    static func isValidLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !isDigit(first), !name.hasPrefix("__") else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
