public import Foundation
import KarbonetesHTTP
public import SignalCore

/// Electricity Maps API v3: `carbon-intensity/latest` and `carbon-intensity/forecast` for a
/// zone, authenticated with the `auth-token` header. The forecast is optional (not every plan
/// has it): without it the snapshot has the latest hour only.
public struct ElectricityMapsProvider: CarbonProvider {
    /// The public endpoint of Electricity Maps, used when the config sets no `baseURL` (tests point it at a stub).
    public static let defaultBaseURL = "https://api.electricitymap.org/v3"

    struct Latest: Decodable {
        var zone: String?
        var carbonIntensity: Double?
        var datetime: Date
    }

    struct Forecast: Decodable {
        struct Point: Decodable {
            var carbonIntensity: Double?
            var datetime: Date
        }
        var forecast: [Point]
    }

    let http: ProviderHTTP
    let region: String
    let zone: String
    let token: SecretSource
    let rule: GreenRule
    let environment: [String: String]

    public init(
        region: String, zone: String, token: SecretSource, baseURL: String = defaultBaseURL, rule: GreenRule,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        self.http = try ProviderHTTP(baseURL: baseURL, provider: "electricitymaps", region: region)
        self.region = region
        self.zone = zone
        self.token = token
        self.rule = rule
        self.environment = environment
    }

    public var kind: String { "electricitymaps" }

    public func fetch(now: Date) async throws -> ProviderSnapshot {
        let secret: String
        do {
            secret = try await token.read(environment: environment)
        } catch {
            throw ProviderError.credentials(provider: kind, region: region, reason: "\(error)")
        }
        let headers: HTTPHeaders = ["auth-token": secret]
        let latest = try await http.get(
            Latest.self, "/carbon-intensity/latest", query: [("zone", zone)], headers: headers)
        guard let intensity = latest.carbonIntensity else {
            throw ProviderError.noData(
                provider: kind, region: region, reason: "zone \(zone) reports no carbon intensity")
        }
        // The forecast is best effort; a rate limit, though, must reach the cache's backoff.
        var forecast: [ProviderSlot] = []
        do {
            let answer = try await http.get(
                Forecast.self, "/carbon-intensity/forecast", query: [("zone", zone)], headers: headers)
            let points = answer.forecast.sorted { $0.datetime < $1.datetime }
            for (index, point) in points.enumerated() {
                guard let intensity = point.carbonIntensity else { continue }
                let end =
                    index + 1 < points.count ? points[index + 1].datetime : point.datetime.addingTimeInterval(3600)
                forecast.append(ProviderSlot(start: point.datetime, end: end, intensity: intensity))
            }
        } catch let error as ProviderError where error.isRateLimited {
            throw error
        } catch {
            forecast = []
        }
        let current = ProviderSlot(
            start: latest.datetime, end: latest.datetime.addingTimeInterval(3600), intensity: intensity)
        guard
            let snapshot = RemoteSnapshot.make(latest: current, forecast: forecast, rule: rule, now: now, source: kind)
        else {
            throw ProviderError.noData(
                provider: kind, region: region,
                reason:
                    "no forecast for zone \(zone) to rank the latest value against; without one, set green: {threshold: N}"
            )
        }
        return snapshot
    }
}
