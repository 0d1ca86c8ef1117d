public import Foundation
public import KarbonetesCarbon
public import KarbonetesModels

/// What makes the grid "green" for a strategy's signal.
public enum GreenRule: Sendable, Hashable, CustomStringConvertible {
    /// Green every day from `startSecond` to `endSecond` (seconds of the UTC day; wraps past
    /// midnight when end < start), like the signal service's static-window provider.
    case dailyWindow(startSecond: Int, endSecond: Int)
    /// Green while the intensity is at or below the threshold (gCO2eq/kWh).
    case threshold(Double)

    /// Reads `HH:MM-HH:MM` (UTC).
    public static func dailyWindow(parsing text: String) throws -> GreenRule {
        let parts = text.split(separator: "-").map { $0.trimmingCharacters(in: .whitespaces) }
        func seconds(_ part: String) -> Int? {
            let pieces = part.split(separator: ":")
            guard pieces.count == 2, let hour = Int(pieces[0]), let minute = Int(pieces[1]), (0...24).contains(hour), (0..<60).contains(minute),
                hour * 3600 + minute * 60 <= 86_400
            else { return nil }
            return hour * 3600 + minute * 60
        }
        guard parts.count == 2, let start = seconds(parts[0]), let end = seconds(parts[1]), start % 86_400 != end % 86_400 else {
            throw EvalInputError.staticWindow(text)
        }
        return .dailyWindow(startSecond: start % 86_400, endSecond: end % 86_400)
    }

    public var description: String {
        switch self {
        case .dailyWindow(let start, let end): return "static window \(Self.clock(start))-\(Self.clock(end)) UTC"
        case .threshold(let value): return "intensity <= \(Self.number(value))"
        }
    }

    static func clock(_ seconds: Int) -> String {
        let hours = seconds / 3600, minutes = seconds % 3600 / 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
    }

    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}

/// Noise added to a forecast: each future slot's intensity times `1 + sigma·z` (z standard
/// normal, floored at zero), drawn from a hash of the seed, the hour the forecast is issued
/// and the slot, so a forecast is stable within an hour, re-issued every hour, and the same
/// on every run whatever order Jobs are replayed in.
public struct ForecastNoise: Sendable, Hashable {
    public var relativeSigma: Double
    public var seed: UInt64

    public init(relativeSigma: Double, seed: UInt64) {
        self.relativeSigma = relativeSigma
        self.seed = seed
    }

    func factor(issuedAt now: Date, slotStart: Date) -> Double {
        let issue = UInt64(bitPattern: Int64((now.timeIntervalSince1970 / 3600).rounded(.down)))
        let slot = UInt64(bitPattern: Int64(slotStart.timeIntervalSince1970.rounded()))
        let key = SeededGenerator.mix(seed ^ SeededGenerator.mix(issue &* 0x2545_F491_4F6C_DD1D ^ SeededGenerator.mix(slot)))
        let u1 = (Double(SeededGenerator.mix(key) >> 11) + 1) / 9_007_199_254_740_992
        let u2 = Double(SeededGenerator.mix(key ^ 0xD1B5_4A32_D192_ED03) >> 11) / 9_007_199_254_740_992
        let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        return max(0, 1 + relativeSigma * z)
    }
}

/// The carbon signal a strategy sees, derived from a trace the way a signal service serving
/// that trace would answer: the real intensity now, `green` by the rule, the window in force
/// (when the answer last changed and will next change), the next green start, and a forecast.
public struct TraceSignal: Sendable {
    public let trace: CarbonTrace
    public let rule: GreenRule
    /// nil: a perfect forecast (the trace itself).
    public let noise: ForecastNoise?
    /// The longest forecast the signal contract serves.
    public static let maximumHorizon = TimeInterval(SignalAPI.maximumForecastHours * 3600)
    static let region = "eval"

    private let boundaries: [Double]
    private let values: [Double]
    /// For the threshold rule: per segment, the first segment of its green/not-green run and
    /// the first one after it (`values.count` at the end), so every answer is a lookup.
    private let runStart: [Int]
    private let runEnd: [Int]

    public init(trace: CarbonTrace, rule: GreenRule, noise: ForecastNoise? = nil) {
        self.trace = trace
        self.rule = rule
        self.noise = noise
        boundaries = trace.points.map { $0.time.timeIntervalSince1970 } + [trace.end.timeIntervalSince1970]
        values = trace.points.map(\.intensity)
        var runStart = [Int](repeating: 0, count: values.count)
        var runEnd = [Int](repeating: values.count, count: values.count)
        if case .threshold(let threshold) = rule {
            for index in values.indices.dropFirst() {
                runStart[index] = (values[index] <= threshold) == (values[index - 1] <= threshold) ? runStart[index - 1] : index
            }
            for index in values.indices.reversed().dropFirst() {
                runEnd[index] = (values[index] <= threshold) == (values[index + 1] <= threshold) ? runEnd[index + 1] : index + 1
            }
        }
        self.runStart = runStart
        self.runEnd = runEnd
    }

    /// What `GET /v1/signal` would say at `now`; unavailable outside the trace.
    public func reading(at now: Date) -> SignalReading {
        let t = now.timeIntervalSince1970
        guard let index = segmentIndex(t) else { return .unavailable(reason: "\(trace.source) does not cover \(RFC3339.format(now))") }
        let intensity = values[index]
        let green: Bool
        let windowStart: Double
        let windowEnd: Double
        let nextGreenStart: Double?
        var threshold: Double?
        switch rule {
        case .dailyWindow(let start, let end):
            let dayStart = (t / 86_400).rounded(.down) * 86_400
            let second = t - dayStart
            green = Self.inWindow(second, start: Double(start), end: Double(end))
            let edges = [start, end].flatMap { edge in [-86_400.0, 0, 86_400].map { dayStart + Double(edge) + $0 } }
            windowStart = edges.filter { $0 <= t }.max() ?? t
            windowEnd = edges.filter { $0 > t }.min() ?? t
            nextGreenStart = [-86_400.0, 0, 86_400, 172_800].map { dayStart + Double(start) + $0 }.filter { $0 > t }.min()
        case .threshold(let value):
            threshold = value
            green = intensity <= value
            windowStart = boundaries[runStart[index]]
            windowEnd = boundaries[runEnd[index]]
            let next = runEnd[index]
            if !green {
                nextGreenStart = next < values.count ? boundaries[next] : nil
            } else {
                nextGreenStart = next < values.count && runEnd[next] < values.count ? boundaries[runEnd[next]] : nil
            }
        }
        return .available(CarbonSignal(
            region: Self.region, intensity: intensity, green: green, rule: rule.description, threshold: threshold,
            windowStart: Date(timeIntervalSince1970: windowStart), windowEnd: Date(timeIntervalSince1970: windowEnd),
            nextGreenStart: nextGreenStart.map { Date(timeIntervalSince1970: $0) }, observedAt: now, source: trace.source))
    }

    /// What `GET /v1/forecast` would say at `now` for the slots up to `until` (at most
    /// ``maximumHorizon`` ahead): the trace's segments, with noise on the future ones.
    public func forecast(at now: Date, until: Date) -> [ForecastPoint] {
        guard let current = trace.segment(at: now) else { return [] }
        let end = min(until, now.addingTimeInterval(Self.maximumHorizon))
        guard end > now else { return [] }
        return trace.segments(from: current.start, to: end).map { segment in
            var intensity = segment.intensity
            if let noise, segment.start > now {
                intensity *= noise.factor(issuedAt: now, slotStart: segment.start)
            }
            return ForecastPoint(start: segment.start, end: segment.end, intensity: intensity, green: isGreen(intensity: intensity, at: segment.start))
        }
    }

    func isGreen(intensity: Double, at time: Date) -> Bool {
        switch rule {
        case .dailyWindow(let start, let end):
            let t = time.timeIntervalSince1970
            return Self.inWindow(t - (t / 86_400).rounded(.down) * 86_400, start: Double(start), end: Double(end))
        case .threshold(let value):
            return intensity <= value
        }
    }

    static func inWindow(_ second: Double, start: Double, end: Double) -> Bool {
        start < end ? (second >= start && second < end) : (second >= start || second < end)
    }

    private func segmentIndex(_ t: Double) -> Int? {
        guard t >= boundaries[0], t < boundaries[boundaries.count - 1] else { return nil }
        var low = 0
        var high = boundaries.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if boundaries[middle] <= t { low = middle } else { high = middle - 1 }
        }
        return low
    }
}
