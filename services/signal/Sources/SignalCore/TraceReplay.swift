public import Foundation
public import KarbonetesCarbon
public import KarbonetesModels

/// How a trace's time is laid onto the present.
public enum TraceAlignment: Sendable, Hashable {
    /// The same month, day and time of day as now, in the trace's years.
    case sameTimeOfYear
    /// Trace time = present time − the offset (e.g. `35064h` replays four years back).
    case offset(TimeInterval)
}

/// What makes a slot green.
public enum GreenRule: Sendable, Hashable {
    /// Green when the intensity is at most this many gCO2eq/kWh.
    case threshold(Double)
    /// Green when the intensity is in the lowest `percent` of the next 24 hours.
    case percentile(Double)

    /// The threshold to apply given the intensities of the next 24 hours.
    func threshold(upcoming: [Double]) -> Double? {
        switch self {
        case .threshold(let value): return value
        case .percentile(let percent): return Percentile.value(percent, of: upcoming)
        }
    }

    func describe(_ threshold: Double) -> String {
        let tenths = (threshold * 10).rounded() / 10
        let rounded = tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
        switch self {
        case .threshold: return "intensity <= \(rounded)"
        case .percentile(let percent):
            let whole = percent == percent.rounded() ? String(Int(percent)) : String(percent)
            return "lowest \(whole)% of the next 24h (intensity <= \(rounded))"
        }
    }
}

/// Replays a recorded trace as if it were happening now: the `trace` provider.
///
/// The trace is mapped onto the present by ``TraceAlignment`` at `anchor` (the moment the
/// replay started), then runs `speedup` times faster than real time from there (`60` = one
/// trace hour per minute, for demos), and loops at its end, so it never runs out.
public struct TraceReplay: Sendable {
    public let trace: CarbonTrace
    public let alignment: TraceAlignment
    public let speedup: Double
    public let anchor: Date
    public let green: GreenRule
    /// How far ahead each snapshot's forecast reaches, in present time.
    public let horizon: TimeInterval

    public init(
        trace: CarbonTrace, alignment: TraceAlignment, speedup: Double = 1, anchor: Date, green: GreenRule,
        horizon: TimeInterval = TimeInterval(SignalAPI.maximumForecastHours) * 3600
    ) {
        precondition(speedup > 0 && speedup.isFinite, "speedup must be positive")
        self.trace = trace
        self.alignment = alignment
        self.speedup = speedup
        self.anchor = anchor
        self.green = green
        self.horizon = horizon
    }

    private var length: TimeInterval { trace.end.timeIntervalSince(trace.start) }

    /// Wraps a trace time into [start, end).
    private func wrap(_ time: Date) -> Date {
        let offset = time.timeIntervalSince(trace.start)
        var wrapped = offset.truncatingRemainder(dividingBy: length)
        if wrapped < 0 { wrapped += length }
        return trace.start.addingTimeInterval(wrapped)
    }

    /// The trace time `anchor` maps to, before any speed-up.
    private var anchorTraceTime: Date {
        switch alignment {
        case .offset(let offset):
            return wrap(anchor.addingTimeInterval(-offset))
        case .sameTimeOfYear:
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            var parts = calendar.dateComponents([.month, .day, .hour, .minute, .second, .nanosecond], from: anchor)
            parts.year = calendar.component(.year, from: trace.start)
            guard var candidate = calendar.date(from: parts) else { return wrap(anchor) }
            if candidate < trace.start, let next = calendar.date(byAdding: .year, value: 1, to: candidate) {
                candidate = next
            }
            return wrap(candidate)
        }
    }

    /// The trace time in force at present time `time`.
    public func traceTime(at time: Date) -> Date {
        wrap(anchorTraceTime.addingTimeInterval(time.timeIntervalSince(anchor) * speedup))
    }

    /// The trace's slots laid onto present time, covering [from, to): each slot is one trace
    /// segment (shortened by the speed-up), the first and last unclipped so their edges are
    /// the real moments the intensity changes.
    public func slots(from: Date, to: Date) -> [(start: Date, end: Date, intensity: Double)] {
        guard from < to else { return [] }
        var traceTime = self.traceTime(at: from)
        guard var segment = trace.segment(at: traceTime) else { return [] }
        var presentStart = from.addingTimeInterval(-traceTime.timeIntervalSince(segment.start) / speedup)
        var slots: [(start: Date, end: Date, intensity: Double)] = []
        // Trace times are tracked beside present times, so rounding never yields a sliver.
        while presentStart < to {
            let presentEnd = presentStart.addingTimeInterval(segment.end.timeIntervalSince(segment.start) / speedup)
            slots.append((presentStart, presentEnd, segment.intensity))
            traceTime = segment.end >= trace.end ? trace.start : segment.end
            guard let next = trace.segment(at: traceTime) else { break }
            segment = next
            presentStart = presentEnd
        }
        return slots
    }

    /// The snapshot at `now`: slots from a day (of trace time) back to the horizon, green by
    /// the rule, with the threshold taken from the next 24 trace hours.
    public func snapshot(at now: Date) -> ProviderSnapshot? {
        let day = 86_400 / speedup
        let reach = min(horizon, length / speedup)
        let slots = self.slots(from: now.addingTimeInterval(-day), to: now.addingTimeInterval(reach))
        let upcoming = slots.filter { $0.end > now && $0.start < now.addingTimeInterval(day) }.map(\.intensity)
        guard let threshold = green.threshold(upcoming: upcoming) else { return nil }
        let points = slots.map {
            ForecastPoint(start: $0.start, end: $0.end, intensity: $0.intensity, green: $0.intensity <= threshold)
        }
        let rule = green.describe(threshold)
        guard let current = GreenSegments.reading(in: points, at: now, rule: rule, threshold: threshold) else {
            return nil
        }
        return ProviderSnapshot(
            current: current,
            forecast: points,
            observedAt: now,
            source: "trace:" + URL(fileURLWithPath: trace.source).lastPathComponent,
            validUntil: current.windowEnd
        )
    }
}

/// The `trace` provider.
public struct TraceProvider: CarbonProvider {
    public let replay: TraceReplay
    public let region: String

    public init(region: String, replay: TraceReplay) {
        self.region = region
        self.replay = replay
    }

    public var kind: String { "trace" }

    public func fetch(now: Date) async throws -> ProviderSnapshot {
        guard let snapshot = replay.snapshot(at: now) else {
            throw ProviderError.noData(
                provider: kind, region: region,
                reason: "trace \(replay.trace.source) gives no value at \(RFC3339.format(now))")
        }
        return snapshot
    }
}
