import Synchronization

/// The label values of one series, in the order of the metric's label names.
struct SeriesKey: Hashable, Sendable, Comparable {
    var values: [String]

    static func < (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        lhs.values.lexicographicallyPrecedes(rhs.values)
    }
}

/// The part every kind of metric shares: its name, help, label names and how a label
/// dictionary becomes a series key.
struct MetricDescriptor: Sendable {
    let name: String
    let help: String
    let labelNames: [String]

    init(name: String, help: String, labelNames: [String], reserved: Set<String> = []) {
        for label in labelNames {
            precondition(MetricName.isValidLabelName(label), "invalid Prometheus label name \(label) on metric \(name)")
            precondition(!reserved.contains(label), "label name \(label) is reserved on metric \(name)")
        }
        precondition(Set(labelNames).count == labelNames.count, "duplicate label names on metric \(name)")
        self.name = name
        self.help = help
        self.labelNames = labelNames
    }

    /// Missing labels read as empty (Prometheus treats an empty label as absent); labels the
    /// metric does not declare are a programming error, caught by the tests in debug builds.
    func key(_ labels: [String: String]) -> SeriesKey {
        assert(
            labels.keys.allSatisfy(labelNames.contains),
            "metric \(name) has labels \(labelNames), got \(labels.keys.sorted())"
        )
        if labelNames.isEmpty { return SeriesKey(values: []) }
        return SeriesKey(values: labelNames.map { labels[$0] ?? "" })
    }

    func renderHeader(type: String, into out: inout String) {
        out += "# HELP "
        out += name
        out += " "
        PrometheusText.appendEscapedHelp(help, to: &out)
        out += "\n# TYPE "
        out += name
        out += " "
        out += type
        out += "\n"
    }

    /// `name{a="x",b="y"} value`, with `extra` (a histogram's `le`) as the last label.
    func renderSample(
        suffix: String = "",
        key: SeriesKey,
        extra: (name: String, value: String)? = nil,
        value: Double,
        into out: inout String
    ) {
        out += name
        out += suffix
        if !labelNames.isEmpty || extra != nil {
            out += "{"
            var first = true
            for (label, labelValue) in zip(labelNames, key.values) {
                if !first { out += "," }
                first = false
                out += label
                out += "=\""
                PrometheusText.appendEscapedLabelValue(labelValue, to: &out)
                out += "\""
            }
            if let extra {
                if !first { out += "," }
                out += extra.name
                out += "=\""
                out += extra.value
                out += "\""
            }
            out += "}"
        }
        out += " "
        out += PrometheusText.format(value)
        out += "\n"
    }
}

/// A count that only goes up: requests served, Jobs held, Jobs released.
public final class Counter: Sendable, RegisteredMetric {
    static let kindName = "counter"
    let descriptor: MetricDescriptor
    private let series: StripedSeries<Double>

    init(name: String, help: String, labelNames: [String]) {
        descriptor = MetricDescriptor(name: name, help: help, labelNames: labelNames)
        // An unlabelled counter is exposed as 0 from the start, so that `rate()` sees its
        // first increment.
        series = StripedSeries(initial: labelNames.isEmpty ? [SeriesKey(values: []): 0] : [:])
    }

    var name: String { descriptor.name }

    /// Adds `amount`; a negative amount is a programming error and is dropped, because a
    /// counter that goes down reads as a process restart to Prometheus.
    public func increment(by amount: Double = 1, labels: [String: String] = [:]) {
        assert(amount >= 0, "counter \(name) incremented by a negative amount \(amount)")
        guard amount >= 0 else { return }
        let key = descriptor.key(labels)
        series.update(key, default: 0) { $0 += amount }
    }

    /// The current count of one series (0 if it was never incremented), for tests and for
    /// status pages.
    public func value(labels: [String: String] = [:]) -> Double {
        let key = descriptor.key(labels)
        return series.merged(+=)[key] ?? 0
    }

    func render(into out: inout String) {
        let snapshot = series.merged(+=)
        descriptor.renderHeader(type: "counter", into: &out)
        for key in snapshot.keys.sorted() {
            descriptor.renderSample(key: key, value: snapshot[key]!, into: &out)
        }
    }
}

/// A value that goes up and down.
public final class Gauge: Sendable, RegisteredMetric {
    static let kindName = "gauge"
    let descriptor: MetricDescriptor
    private let series: Mutex<[SeriesKey: Double]>

    init(name: String, help: String, labelNames: [String]) {
        descriptor = MetricDescriptor(name: name, help: help, labelNames: labelNames)
        series = Mutex(labelNames.isEmpty ? [SeriesKey(values: []): 0] : [:])
    }

    var name: String { descriptor.name }

    public func set(_ value: Double, labels: [String: String] = [:]) {
        let key = descriptor.key(labels)
        series.withLock { $0[key] = value }
    }

    public func increment(by amount: Double = 1, labels: [String: String] = [:]) {
        let key = descriptor.key(labels)
        series.withLock { $0[key, default: 0] += amount }
    }

    public func decrement(by amount: Double = 1, labels: [String: String] = [:]) {
        increment(by: -amount, labels: labels)
    }

    /// The current value of one series (0 if it was never set).
    public func value(labels: [String: String] = [:]) -> Double {
        let key = descriptor.key(labels)
        return series.withLock { $0[key] ?? 0 }
    }

    /// Drops a series, so that a label value that no longer exists (a namespace with no more
    /// held Jobs) stops being exposed instead of showing a stale value forever.
    public func remove(labels: [String: String] = [:]) {
        let key = descriptor.key(labels)
        series.withLock { _ = $0.removeValue(forKey: key) }
    }

    func render(into out: inout String) {
        let snapshot = series.withLock { $0 }
        descriptor.renderHeader(type: "gauge", into: &out)
        for key in snapshot.keys.sorted() {
            descriptor.renderSample(key: key, value: snapshot[key]!, into: &out)
        }
    }
}

/// Observations counted into buckets, exposed as cumulative `_bucket{le="…"}` series with
/// `_sum` and `_count`.
///
/// Observing is one dictionary lookup and one linear scan of the bounds under the metric's
/// lock: the webhook observes one per request.
public final class Histogram: Sendable, RegisteredMetric {
    /// Prometheus' default buckets, in seconds: from 5 ms to 10 s.
    public static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    static let kindName = "histogram"
    let descriptor: MetricDescriptor
    /// Upper bounds, strictly increasing, without `+Inf` (always added at render).
    let bounds: [Double]
    private let series: StripedSeries<HistogramSeries>

    init(name: String, help: String, labelNames: [String], buckets: [Double]) {
        descriptor = MetricDescriptor(name: name, help: help, labelNames: labelNames, reserved: ["le"])
        let finite = buckets.filter { $0 != .infinity }
        precondition(!finite.contains(where: \.isNaN), "histogram \(name) has a NaN bucket")
        precondition(
            zip(finite, finite.dropFirst()).allSatisfy { $0 < $1 },
            "histogram \(name) buckets must increase strictly"
        )
        bounds = finite
        series = StripedSeries(initial: labelNames.isEmpty ? [SeriesKey(values: []): HistogramSeries(bucketCount: finite.count)] : [:])
    }

    var name: String { descriptor.name }

    public func observe(_ value: Double, labels: [String: String] = [:]) {
        let key = descriptor.key(labels)
        // The bucket index is found outside the lock: it depends only on the value.
        // NaN belongs to no finite bucket, only to `+Inf`.
        var index = value.isNaN ? bounds.count : 0
        while index < bounds.count, value > bounds[index] { index += 1 }
        let bucketCount = bounds.count
        series.update(key, default: HistogramSeries(bucketCount: bucketCount)) { $0.record(value, bucket: index) }
    }

    /// How many observations one series holds.
    public func count(labels: [String: String] = [:]) -> UInt64 {
        let key = descriptor.key(labels)
        return series.merged { $0.add($1) }[key]?.count ?? 0
    }

    /// The sum of one series' observations.
    public func sum(labels: [String: String] = [:]) -> Double {
        let key = descriptor.key(labels)
        return series.merged { $0.add($1) }[key]?.sum ?? 0
    }

    func render(into out: inout String) {
        let snapshot = series.merged { $0.add($1) }
        descriptor.renderHeader(type: "histogram", into: &out)
        for key in snapshot.keys.sorted() {
            let entry = snapshot[key]!
            var cumulative: UInt64 = 0
            for (bound, count) in zip(bounds, entry.buckets) {
                cumulative += count
                descriptor.renderSample(
                    suffix: "_bucket",
                    key: key,
                    extra: ("le", PrometheusText.format(bound)),
                    value: Double(cumulative),
                    into: &out
                )
            }
            descriptor.renderSample(
                suffix: "_bucket",
                key: key,
                extra: ("le", "+Inf"),
                value: Double(entry.count),
                into: &out
            )
            descriptor.renderSample(suffix: "_sum", key: key, value: entry.sum, into: &out)
            descriptor.renderSample(suffix: "_count", key: key, value: Double(entry.count), into: &out)
        }
    }
}

/// One histogram series: per-bucket (not cumulative) counts, plus the overflow above the last
/// bound, which only shows in `+Inf` and `_count`.
struct HistogramSeries: Sendable {
    var buckets: [UInt64]
    var count: UInt64 = 0
    var sum: Double = 0

    init(bucketCount: Int) {
        buckets = Array(repeating: 0, count: bucketCount)
    }

    mutating func add(_ other: HistogramSeries) {
        for index in buckets.indices { buckets[index] += other.buckets[index] }
        count += other.count
        sum += other.sum
    }

    mutating func record(_ value: Double, bucket index: Int) {
        if index < buckets.count { buckets[index] += 1 }
        count += 1
        sum += value
    }
}
