public import Foundation
import KarbonetesModels

/// One slot a real provider reported or forecast.
public struct ProviderSlot: Sendable, Hashable {
    public var start: Date
    public var end: Date
    /// gCO2eq/kWh, already converted from the provider's unit.
    public var intensity: Double
    /// The provider's own verdict (the UK API's `index`, WattTime's percentile), which wins over
    /// the rule when set.
    public var green: Bool?

    public init(start: Date, end: Date, intensity: Double, green: Bool? = nil) {
        self.start = start
        self.end = end
        self.intensity = intensity
        self.green = green
    }
}

/// Turns what a real provider said (its latest value and its forecast) into a snapshot, so
/// every adapter decides green, windows and the next green start the same way.
public enum RemoteSnapshot {
    /// - Parameters:
    ///   - latest: the provider's current value; its slot is stretched to cover `now` when it
    ///     is older than one slot (it is still the provider's latest word).
    ///   - forecast: later slots; where they overlap `latest` they are cut.
    ///   - rule: a threshold, or a percentile of `latest` and the next 24 hours of forecast;
    ///     nil when the provider's verdicts decide (`verdictRule` then describes them).
    /// - Returns: nil when nothing can be decided: no slot covers `now`, or a percentile rule
    ///   has no forecast to rank the latest value against.
    public static func make(
        latest: ProviderSlot, forecast: [ProviderSlot], rule: GreenRule?, verdictRule: String? = nil, now: Date,
        source: String
    ) -> ProviderSnapshot? {
        let currentEnd = max(latest.end, now.addingTimeInterval(1))
        let later = forecast.sorted { $0.start < $1.start }.compactMap { slot -> ProviderSlot? in
            guard slot.end > currentEnd else { return nil }
            return ProviderSlot(
                start: max(slot.start, currentEnd), end: slot.end, intensity: slot.intensity, green: slot.green)
        }
        let dayAhead = later.filter { $0.start < now.addingTimeInterval(86_400) }.map(\.intensity)
        var threshold: Double?
        if let rule {
            // A percentile of the latest value alone would call every hour green.
            if case .percentile = rule, dayAhead.isEmpty { return nil }
            guard let computed = rule.threshold(upcoming: [latest.intensity] + dayAhead) else { return nil }
            threshold = computed
        }
        func green(_ slot: ProviderSlot) -> Bool {
            if let verdict = slot.green { return verdict }
            guard let threshold else { return false }
            return slot.intensity <= threshold
        }
        let ruleText =
            verdictRule ?? threshold.flatMap { value in rule.map { $0.describe(value) } } ?? "provider verdict"
        var points = [
            ForecastPoint(start: latest.start, end: currentEnd, intensity: latest.intensity, green: green(latest))
        ]
        for slot in later {
            points.append(
                ForecastPoint(start: slot.start, end: slot.end, intensity: slot.intensity, green: green(slot)))
        }
        let decidingThreshold = latest.green == nil ? threshold : nil
        guard let reading = GreenSegments.reading(in: points, at: now, rule: ruleText, threshold: decidingThreshold)
        else { return nil }
        return ProviderSnapshot(current: reading, forecast: points, observedAt: latest.start, source: source)
    }
}
