public import Foundation

/// One reading of a trace: the grid's intensity from `time` until the next reading.
public struct IntensityPoint: Sendable, Hashable {
    /// When this reading takes effect (UTC, as both shipped formats record it).
    public var time: Date
    /// gCO2eq/kWh.
    public var intensity: Double

    public init(time: Date, intensity: Double) {
        self.time = time
        self.intensity = intensity
    }
}

/// A span of constant intensity, as a forecast slot or a plot needs it.
public struct TraceSegment: Sendable, Hashable {
    public var start: Date
    /// Exclusive: the next segment starts here.
    public var end: Date
    /// gCO2eq/kWh.
    public var intensity: Double

    public init(start: Date, end: Date, intensity: Double) {
        self.start = start
        self.end = end
        self.intensity = intensity
    }
}

/// A time span and the exact mean intensity over it: what `/v1/best-window` answers.
public struct TraceWindow: Sendable, Hashable {
    public var start: Date
    public var end: Date
    /// Time-weighted, gCO2eq/kWh.
    public var meanIntensity: Double

    public init(start: Date, end: Date, meanIntensity: Double) {
        self.start = start
        self.end = end
        self.meanIntensity = meanIntensity
    }
}

/// A carbon-intensity time series read as a step function: each point's intensity holds
/// from its time until the next point's (the last one for one more ``step``). That is how
/// grid operators publish intensity (an average per settlement period), and it makes every
/// mean an exact sum of rectangles rather than an approximation that depends on sampling.
///
/// Points need not be evenly spaced (the shipped GB trace switches from 30 to 15 minutes);
/// `step` is only the most common spacing, used for the last point.
public struct CarbonTrace: Sendable, Hashable {
    /// Where the trace came from, for messages (`data/carbon/x.csv`).
    public let source: String
    /// In increasing time order, without duplicates.
    public let points: [IntensityPoint]
    /// The most common spacing between points, in seconds.
    public let step: TimeInterval

    /// Segment boundaries in seconds since 1970: `boundaries[i]` is point `i`'s time, the last
    /// one is the trace's end.
    private let boundaries: [Double]
    private let values: [Double]
    /// `cumulative[i]` is the integral of intensity from the first boundary to `boundaries[i]`
    /// (gCO2eq/kWh · s), so any interval's integral is two lookups.
    private let cumulative: [Double]

    /// - Parameter step: how long the last point holds; when nil, the most common spacing.
    /// - Throws: ``CarbonTraceError`` when times do not increase, an intensity is negative or
    ///   not finite, or there are fewer than two points and no `step`.
    public init(points: [IntensityPoint], step: TimeInterval? = nil, source: String = "trace") throws {
        guard points.count >= 2 || (points.count == 1 && (step ?? 0) > 0) else {
            throw CarbonTraceError.tooFewPoints(source, count: points.count)
        }
        for (index, point) in points.enumerated() {
            guard point.intensity.isFinite, point.intensity >= 0 else {
                throw CarbonTraceError.invalidPoint(source, index: index, reason: "intensity \(point.intensity) is not a non-negative number")
            }
            if index > 0, point.time <= points[index - 1].time {
                throw CarbonTraceError.invalidPoint(source, index: index, reason: "time \(point.time) is not after the previous point's")
            }
        }
        let step = step ?? Self.mostCommonGap(points)
        guard step > 0, step.isFinite else {
            throw CarbonTraceError.invalidPoint(source, index: 0, reason: "step \(step) s must be positive")
        }
        self.source = source
        self.points = points
        self.step = step
        var boundaries = points.map { $0.time.timeIntervalSince1970 }
        boundaries.append(boundaries[boundaries.count - 1] + step)
        self.boundaries = boundaries
        self.values = points.map(\.intensity)
        var cumulative = [0.0]
        cumulative.reserveCapacity(boundaries.count)
        for index in values.indices {
            cumulative.append(cumulative[index] + values[index] * (boundaries[index + 1] - boundaries[index]))
        }
        self.cumulative = cumulative
    }

    /// Evenly spaced intensities from `start`: the shortest way to write a trace in a test or
    /// a synthetic provider.
    public static func evenlySpaced(start: Date, step: TimeInterval, intensities: [Double], source: String = "trace") throws -> CarbonTrace {
        let points = intensities.enumerated().map { IntensityPoint(time: start.addingTimeInterval(Double($0.offset) * step), intensity: $0.element) }
        return try CarbonTrace(points: points, step: step, source: source)
    }

    /// The first moment the trace covers: lookups before it are nil, never extrapolated.
    public var start: Date { Date(timeIntervalSince1970: boundaries[0]) }
    /// The first moment the trace no longer covers.
    public var end: Date { Date(timeIntervalSince1970: boundaries[boundaries.count - 1]) }

    /// The intensity in force at `time`, or nil outside [start, end).
    public func intensity(at time: Date) -> Double? {
        segmentIndex(containing: time.timeIntervalSince1970).map { values[$0] }
    }

    /// The segment in force at `time` (when the intensity last changed and will next change),
    /// or nil outside [start, end).
    public func segment(at time: Date) -> TraceSegment? {
        segmentIndex(containing: time.timeIntervalSince1970).map(segment(index:))
    }

    /// The integral of intensity over [from, to] in gCO2eq/kWh · s: the emissions of a 1 kW
    /// load are this divided by 3600. Nil unless the trace covers the whole interval.
    public func integral(from: Date, to: Date) -> Double? {
        let (a, b) = (from.timeIntervalSince1970, to.timeIntervalSince1970)
        guard a <= b, let fa = antiderivative(a), let fb = antiderivative(b) else { return nil }
        return fb - fa
    }

    /// The exact time-weighted mean over [from, to], partial segments included; for an empty
    /// interval, the intensity at `from`. Nil unless the trace covers the whole interval.
    public func meanIntensity(from: Date, to: Date) -> Double? {
        let length = to.timeIntervalSince(from)
        if length == 0 { return intensity(at: from) }
        return integral(from: from, to: to).map { $0 / length }
    }

    /// The segments overlapping [from, to), clipped to it (and to the trace).
    public func segments(from: Date, to: Date) -> [TraceSegment] {
        let (a, b) = (max(from.timeIntervalSince1970, boundaries[0]), min(to.timeIntervalSince1970, boundaries[boundaries.count - 1]))
        guard a < b, let first = segmentIndex(containing: a) else { return [] }
        var result: [TraceSegment] = []
        var index = first
        while index < values.count, boundaries[index] < b {
            result.append(TraceSegment(
                start: Date(timeIntervalSince1970: max(boundaries[index], a)),
                end: Date(timeIntervalSince1970: min(boundaries[index + 1], b)),
                intensity: values[index]))
            index += 1
        }
        return result
    }

    /// The `p`-th percentile (0…100) of the intensities of the points in force during
    /// [from, to), or of the whole trace; used to set a threshold from the data (`lowest 30%`).
    public func intensityPercentile(_ p: Double, from: Date? = nil, to: Date? = nil) -> Double? {
        let values = segments(from: from ?? start, to: to ?? end).map(\.intensity)
        return Percentile.value(p, of: values)
    }

    // MARK: - Internals shared with the best-window search

    var segmentBoundaries: [Double] { boundaries }

    func segment(index: Int) -> TraceSegment {
        TraceSegment(start: Date(timeIntervalSince1970: boundaries[index]), end: Date(timeIntervalSince1970: boundaries[index + 1]), intensity: values[index])
    }

    /// The integral from the trace's start to `t`, or nil outside [start, end].
    func antiderivative(_ t: Double) -> Double? {
        let last = boundaries.count - 1
        if t == boundaries[last] { return cumulative[last] }
        guard let index = segmentIndex(containing: t) else { return nil }
        return cumulative[index] + values[index] * (t - boundaries[index])
    }

    /// The largest `i` with `boundaries[i] <= t`, when `t` is in [start, end).
    func segmentIndex(containing t: Double) -> Int? {
        guard t >= boundaries[0], t < boundaries[boundaries.count - 1] else { return nil }
        return lastBoundary(atOrBefore: t)
    }

    /// The largest index with `boundaries[index] <= t` (t must be ≥ the first boundary).
    func lastBoundary(atOrBefore t: Double) -> Int {
        var low = 0
        var high = boundaries.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if boundaries[middle] <= t { low = middle } else { high = middle - 1 }
        }
        return low
    }

    private static func mostCommonGap(_ points: [IntensityPoint]) -> TimeInterval {
        var counts: [TimeInterval: Int] = [:]
        for index in points.indices.dropFirst() {
            counts[points[index].time.timeIntervalSince(points[index - 1].time), default: 0] += 1
        }
        // Most frequent; the smaller gap on a tie, so the answer does not depend on hashing.
        return counts.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key ?? 0
    }
}

/// Percentiles with linear interpolation between closest ranks (numpy's default, R type 7),
/// so a p95 delay printed by `karbonetes-eval` matches what a notebook computes from its JSON.
public enum Percentile {
    /// The `p`-th percentile (0…100) of `values`; nil for no values or `p` outside 0…100.
    public static func value(_ p: Double, of values: [Double]) -> Double? {
        guard !values.isEmpty, p >= 0, p <= 100 else { return nil }
        let sorted = values.sorted()
        let rank = p / 100 * Double(sorted.count - 1)
        let lower = Int(rank.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = rank - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
    }
}
