public import Foundation
public import SignalCore

/// The Green Software Foundation's Carbon Aware SDK WebAPI: `GET /emissions/forecasts/current`
/// for a location; the slot covering now is the current value.
public struct CarbonAwareSDKProvider: CarbonProvider {
    let http: ProviderHTTP
    let region: String
    let location: String
    let rule: GreenRule

    public init(region: String, location: String, baseURL: String, rule: GreenRule) throws {
        self.http = try ProviderHTTP(baseURL: baseURL, provider: "carbon-aware-sdk", region: region)
        self.region = region
        self.location = location
        self.rule = rule
    }

    public var kind: String { "carbon-aware-sdk" }

    public func fetch(now: Date) async throws -> ProviderSnapshot {
        let answers = try await http.get(
            [CarbonAwareEmissionsForecast].self, "/emissions/forecasts/current", query: [("location", location)])
        guard let answer = answers.first(where: { $0.location == location }) ?? answers.first else {
            throw ProviderError.noData(provider: kind, region: region, reason: "no forecast for location \(location)")
        }
        let slots = answer.forecastData.filter { $0.duration > 0 }.map {
            ProviderSlot(
                start: $0.timestamp, end: $0.timestamp.addingTimeInterval(TimeInterval($0.duration) * 60),
                intensity: $0.value)
        }.sorted { $0.start < $1.start }
        guard let latest = slots.last(where: { $0.start <= now }) ?? slots.first else {
            throw ProviderError.noData(
                provider: kind, region: region, reason: "the forecast for location \(location) is empty")
        }
        guard
            let snapshot = RemoteSnapshot.make(
                latest: latest, forecast: slots.filter { $0.start > latest.start }, rule: rule, now: now, source: kind)
        else {
            throw ProviderError.noData(
                provider: kind, region: region, reason: "no usable values for location \(location)")
        }
        return snapshot
    }
}
