public import Foundation
import KarbonetesHTTP
public import SignalCore
import Synchronization

/// WattTime API v3: a bearer token from `/login` (basic auth; renewed before its 30-minute
/// expiry, and at once after a 401), the marginal emissions `forecast` (lbs CO2/MWh, converted
/// to g/kWh) and the `signal-index` (the current percentile, 0 = cleanest). With a percentile
/// rule the index decides whether now is green; with a threshold the intensity does.
public struct WattTimeProvider: CarbonProvider {
    /// The public endpoint of WattTime, used when the config sets no `baseURL` (tests point it at a stub).
    public static let defaultBaseURL = "https://api.watttime.org"
    /// 1 lb/MWh = 453.59237 g / 1000 kWh.
    public static let gramsPerKWhPerPoundPerMWh = 0.45359237
    /// Tokens last 30 minutes; a new one is fetched after this.
    public static let tokenLifetime: TimeInterval = 25 * 60

    struct Login: Decodable {
        var token: String
    }

    struct Series: Decodable {
        struct Point: Decodable {
            var pointTime: Date
            var value: Double

            enum CodingKeys: String, CodingKey {
                case pointTime = "point_time"
                case value
            }
        }
        struct Meta: Decodable {
            var dataPointPeriodSeconds: Double?
            var units: String?

            enum CodingKeys: String, CodingKey {
                case dataPointPeriodSeconds = "data_point_period_seconds"
                case units
            }
        }
        var data: [Point]
        var meta: Meta?
    }

    final class TokenCache: Sendable {
        let state = Mutex<(token: String, obtainedAt: Date)?>(nil)
    }

    let http: ProviderHTTP
    let region: String
    let gridRegion: String
    let username: SecretSource
    let password: SecretSource
    let rule: GreenRule
    let clock: any WallClock
    let environment: [String: String]
    let tokens = TokenCache()

    public init(
        region: String, gridRegion: String, username: SecretSource, password: SecretSource,
        baseURL: String = defaultBaseURL,
        rule: GreenRule, clock: any WallClock, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        self.http = try ProviderHTTP(baseURL: baseURL, provider: "watttime", region: region)
        self.region = region
        self.gridRegion = gridRegion
        self.username = username
        self.password = password
        self.rule = rule
        self.clock = clock
        self.environment = environment
    }

    public var kind: String { "watttime" }

    private func token(renew: Bool) async throws -> String {
        let now = clock.now()
        if !renew, let cached = tokens.state.withLock({ $0 }),
            now.timeIntervalSince(cached.obtainedAt) < Self.tokenLifetime
        {
            return cached.token
        }
        let user: String
        let secret: String
        do {
            user = try await username.read(environment: environment)
            secret = try await password.read(environment: environment)
        } catch {
            throw ProviderError.credentials(provider: kind, region: region, reason: "\(error)")
        }
        let basic = "Basic " + Data("\(user):\(secret)".utf8).base64EncodedString()
        let login = try await http.get(Login.self, "/login", headers: ["Authorization": basic])
        tokens.state.withLock { $0 = (login.token, now) }
        return login.token
    }

    /// GETs with the bearer token, logging in again once if the token was refused.
    private func authorized(_ path: String) async throws -> Series {
        let query = [("region", gridRegion), ("signal_type", "co2_moer")]
        do {
            return try await http.get(
                Series.self, path, query: query, headers: ["Authorization": "Bearer \(try await token(renew: false))"])
        } catch let error as ProviderError where error.status == 401 || error.status == 403 {
            return try await http.get(
                Series.self, path, query: query, headers: ["Authorization": "Bearer \(try await token(renew: true))"])
        }
    }

    public func fetch(now: Date) async throws -> ProviderSnapshot {
        let forecast = try await authorized("/v3/forecast")
        let units = forecast.meta?.units ?? "lbs_co2_per_mwh"
        guard units == "lbs_co2_per_mwh" else {
            throw ProviderError.badResponse(
                provider: kind, region: region, reason: "forecast units \(units), expected lbs_co2_per_mwh")
        }
        let period = forecast.meta?.dataPointPeriodSeconds ?? 300
        let slots = forecast.data.sorted { $0.pointTime < $1.pointTime }.map {
            ProviderSlot(
                start: $0.pointTime, end: $0.pointTime.addingTimeInterval(period),
                intensity: $0.value * Self.gramsPerKWhPerPoundPerMWh)
        }
        guard var latest = slots.last(where: { $0.start <= now }) ?? slots.first else {
            throw ProviderError.noData(
                provider: kind, region: region, reason: "empty forecast for grid region \(gridRegion)")
        }
        var verdictRule: String?
        if case .percentile(let percent) = rule, let current = try await authorized("/v3/signal-index").data.last?.value
        {
            latest.green = current <= percent
            verdictRule =
                "WattTime signal index \(Int(current.rounded())) (green at or below \(Int(percent.rounded())))"
        }
        guard
            let snapshot = RemoteSnapshot.make(
                latest: latest, forecast: slots.filter { $0.start > latest.start }, rule: rule,
                verdictRule: verdictRule, now: now, source: kind)
        else {
            throw ProviderError.noData(
                provider: kind, region: region, reason: "no usable values for grid region \(gridRegion)")
        }
        return snapshot
    }
}
