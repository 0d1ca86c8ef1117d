public import Foundation
import KarbonetesModels
public import SignalCore

/// National Grid ESO's Carbon Intensity API for Great Britain (no authentication):
/// `/intensity` for the current half hour and `/intensity/{from}/fw24h` for the next day. Its
/// `index` (`very low` … `very high`) decides green unless the region sets a rule.
public struct UKCarbonIntensityProvider: CarbonProvider {
    /// The public endpoint of the UK API, used when the config sets no `baseURL` (tests point it at a stub).
    public static let defaultBaseURL = "https://api.carbonintensity.org.uk"
    /// The index values counted as green.
    public static let greenIndexes: Set<String> = ["very low", "low"]

    struct Answer: Decodable {
        struct Period: Decodable {
            struct Intensity: Decodable {
                var forecast: Double?
                var actual: Double?
                var index: String?
            }
            var from: String
            var to: String
            var intensity: Intensity
        }
        var data: [Period]
    }

    let http: ProviderHTTP
    let region: String
    let rule: GreenRule?

    public init(region: String, baseURL: String = defaultBaseURL, rule: GreenRule?) throws {
        self.http = try ProviderHTTP(baseURL: baseURL, provider: "uk-carbon-intensity", region: region)
        self.region = region
        self.rule = rule
    }

    public var kind: String { "uk-carbon-intensity" }

    /// The API writes minutes without seconds (`2026-12-03T12:00Z`).
    static func parseTime(_ text: String) -> Date? {
        if let date = RFC3339.parse(text) { return date }
        guard text.count == 17, text.hasSuffix("Z") else { return nil }
        return RFC3339.parse(String(text.dropLast()) + ":00Z")
    }

    static func formatTime(_ date: Date) -> String {
        let full = RFC3339.format(date)
        return String(full.prefix(16)) + "Z"
    }

    func slots(_ answer: Answer) throws -> [ProviderSlot] {
        try answer.data.compactMap { period in
            guard let start = Self.parseTime(period.from), let end = Self.parseTime(period.to), end > start else {
                throw ProviderError.badResponse(
                    provider: kind, region: region, reason: "period \(period.from)-\(period.to) is not a time range")
            }
            guard let intensity = period.intensity.actual ?? period.intensity.forecast else { return nil }
            let green =
                rule == nil ? period.intensity.index.map { Self.greenIndexes.contains($0.lowercased()) } ?? false : nil
            return ProviderSlot(start: start, end: end, intensity: intensity, green: green)
        }
    }

    public func fetch(now: Date) async throws -> ProviderSnapshot {
        let current = try slots(try await http.get(Answer.self, "/intensity"))
        guard let latest = current.last else {
            throw ProviderError.noData(provider: kind, region: region, reason: "/intensity has no period with a value")
        }
        let ahead = try slots(try await http.get(Answer.self, "/intensity/\(Self.formatTime(now))/fw24h"))
        guard
            let snapshot = RemoteSnapshot.make(
                latest: latest, forecast: ahead, rule: rule,
                verdictRule: rule == nil ? "UK carbon intensity index very low or low" : nil,
                now: now, source: kind)
        else {
            throw ProviderError.noData(provider: kind, region: region, reason: "no usable periods")
        }
        return snapshot
    }
}
