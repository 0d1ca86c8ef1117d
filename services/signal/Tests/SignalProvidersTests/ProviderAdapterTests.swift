import Foundation
import KarbonetesHTTP
import KarbonetesModels
import SignalCore
import SignalHTTP
import SignalProviders
import SignalTestKit
import Testing

func at(_ text: String) -> Date {
    guard let date = RFC3339.parse(text) else { fatalError("bad test time \(text)") }
    return date
}

let now = at("2026-12-03T12:10:00Z")

/// Writes a secret file for one test and removes it after.
func withSecretFile(_ contents: String, _ body: (String) async throws -> Void) async throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)").path
    try contents.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    try await body(path)
}

func providerError(_ body: () async throws -> Void) async -> ProviderError? {
    do {
        try await body()
        return nil
    } catch let error as ProviderError {
        return error
    } catch {
        Issue.record("not a ProviderError: \(error)")
        return nil
    }
}

@Suite("Electricity Maps v3 adapter against a local stub", .serialized)
struct ElectricityMapsTests {
    @Test("latest and forecast are read with the auth-token header from the token file, green by the lowest 30%")
    func success() async throws {
        let stub = StubServer()
        stub.on("/v3/carbon-intensity/latest", .init(status: 200, body: Recorded.electricityMapsLatest))
        stub.on("/v3/carbon-intensity/forecast", .init(status: 200, body: Recorded.electricityMapsForecast))
        try await withSecretFile("s3cret-token\n") { tokenFile in
            try await stub.serving { base in
                let provider = try ElectricityMapsProvider(
                    region: "de", zone: "DE", token: .file(tokenFile), baseURL: base + "/v3", rule: .percentile(30))
                let snapshot = try await provider.fetch(now: now)
                #expect(snapshot.current.intensity == 302)
                #expect(!snapshot.current.green)
                #expect(snapshot.observedAt == at("2026-12-03T12:00:00Z"))
                #expect(snapshot.forecast.map(\.intensity) == [302, 250, 180, 190, 320])
                // 30th percentile of [302, 250, 180, 190, 320] by linear interpolation is 190 + 0.2 * 60 = 202.
                #expect(abs((snapshot.current.threshold ?? 0) - 202) < 1e-9)
                #expect(snapshot.forecast.map(\.green) == [false, false, true, true, false])
                #expect(snapshot.current.nextGreenStart == at("2026-12-03T14:00:00Z"))
                #expect(snapshot.current.windowEnd == at("2026-12-03T14:00:00Z"))
            }
        }
        let latest = try #require(stub.requests(to: "/v3/carbon-intensity/latest").first)
        #expect(latest.headers["auth-token"] == "s3cret-token")
        #expect(latest.query("zone") == "DE")
    }

    @Test("without a forecast on the plan the latest value still answers")
    func forecastRefused() async throws {
        let stub = StubServer()
        stub.on("/v3/carbon-intensity/latest", .init(status: 200, body: Recorded.electricityMapsLatest))
        stub.on("/v3/carbon-intensity/forecast", .init(status: 403, body: Recorded.electricityMapsUnauthorized))
        try await stub.serving { base in
            let provider = try ElectricityMapsProvider(
                region: "de", zone: "DE", token: .environment("EM_TOKEN"), baseURL: base + "/v3", rule: .threshold(350),
                environment: ["EM_TOKEN": "from-env"])
            let snapshot = try await provider.fetch(now: now)
            #expect(snapshot.current.green)
            #expect(snapshot.current.rule == "intensity <= 350")
            #expect(snapshot.forecast.count == 1)
        }
        #expect(stub.requests.first?.headers["auth-token"] == "from-env")
    }

    @Test(
        "a refused token, a rate limit and a malformed body are provider errors that never show the token",
        arguments: [
            (StubServer.Canned(status: 401, body: Recorded.electricityMapsUnauthorized), "answered HTTP 401"),
            (
                StubServer.Canned(
                    status: 429, body: Recorded.electricityMapsRateLimited, headers: [("Retry-After", "120")]),
                "rate-limiting us (retry after 120s)"
            ),
            (StubServer.Canned(status: 200, body: #"{"zone":"DE","carbonIntensity":"lots"}"#), "cannot read"),
            (StubServer.Canned(status: 502, body: "<html>bad gateway</html>"), "answered HTTP 502"),
        ])
    func failures(_ canned: StubServer.Canned, _ wantMessage: String) async throws {
        let stub = StubServer()
        stub.on("/v3/carbon-intensity/latest", canned)
        try await stub.serving { base in
            let provider = try ElectricityMapsProvider(
                region: "de", zone: "DE", token: .environment("T"), baseURL: base + "/v3", rule: .percentile(30),
                environment: ["T": "tok-123"])
            let error = await providerError { _ = try await provider.fetch(now: now) }
            #expect(error?.description.contains(wantMessage) == true, "\(String(describing: error))")
            #expect(error?.description.contains("tok-123") == false)
            if canned.status == 429 { #expect(error?.retryAfter == 120) }
        }
    }

    @Test("a missing token is a credentials error naming where it was looked for, before any request")
    func missingToken() async throws {
        let stub = StubServer()
        try await stub.serving { base in
            let provider = try ElectricityMapsProvider(
                region: "de", zone: "DE", token: .environment("EM_TOKEN"), baseURL: base, rule: .percentile(30),
                environment: [:])
            let error = await providerError { _ = try await provider.fetch(now: now) }
            #expect(error?.description.contains("environment variable EM_TOKEN") == true)
        }
        #expect(stub.requests.isEmpty)
    }
}

@Suite("WattTime v3 adapter against a local stub", .serialized)
struct WattTimeTests {
    func stub() -> StubServer {
        let stub = StubServer()
        stub.on("/login", .init(status: 200, body: Recorded.wattTimeLogin))
        stub.on("/v3/forecast", .init(status: 200, body: Recorded.wattTimeForecast))
        stub.on("/v3/signal-index", .init(status: 200, body: Recorded.wattTimeIndex))
        return stub
    }

    @Test("logs in with basic auth, uses the bearer token, converts lbs/MWh to g/kWh and takes green from the index")
    func success() async throws {
        let stub = stub()
        let clock = ManualWallClock(now)
        try await stub.serving { base in
            let provider = try WattTimeProvider(
                region: "caiso", gridRegion: "CAISO_NORTH", username: .environment("U"), password: .environment("P"),
                baseURL: base,
                rule: .percentile(30), clock: clock, environment: ["U": "ada", "P": "pa:ss"])
            let snapshot = try await provider.fetch(now: now)
            #expect(abs(snapshot.current.intensity - 900 * 0.45359237) < 1e-9)
            #expect(snapshot.current.green)
            #expect(snapshot.current.rule == "WattTime signal index 22 (green at or below 30)")
            #expect(snapshot.forecast.count == 3)
            #expect(abs(snapshot.forecast[1].intensity - 400 * 0.45359237) < 1e-9)
        }
        let login = try #require(stub.requests(to: "/login").first)
        #expect(login.headers["Authorization"] == "Basic " + Data("ada:pa:ss".utf8).base64EncodedString())
        let forecast = try #require(stub.requests(to: "/v3/forecast").first)
        #expect(forecast.headers["Authorization"] == "Bearer eyJhbGciOiJIUzI1NiJ9.test-token")
        #expect(forecast.query("region") == "CAISO_NORTH")
        #expect(forecast.query("signal_type") == "co2_moer")
    }

    @Test("the token is reused until shortly before it expires, and renewed at once when refused")
    func tokenRenewal() async throws {
        let stub = stub()
        let clock = ManualWallClock(now)
        try await stub.serving { base in
            let provider = try WattTimeProvider(
                region: "caiso", gridRegion: "CAISO_NORTH", username: .environment("U"), password: .environment("P"),
                baseURL: base,
                rule: .threshold(300), clock: clock, environment: ["U": "ada", "P": "x"])
            _ = try await provider.fetch(now: now)
            clock.advance(by: 20 * 60)
            _ = try await provider.fetch(now: now)
            #expect(stub.requests(to: "/login").count == 1)
            clock.advance(by: 6 * 60)
            _ = try await provider.fetch(now: now)
            #expect(stub.requests(to: "/login").count == 2)
            stub.on(
                "/v3/forecast", .init(status: 401, body: Recorded.wattTimeExpired),
                .init(status: 200, body: Recorded.wattTimeForecast))
            let snapshot = try await provider.fetch(now: now)
            #expect(stub.requests(to: "/login").count == 3)
            #expect(!snapshot.current.green)
            #expect(snapshot.current.threshold == 300)
        }
    }

    @Test("a rate limit carries its Retry-After to the cache")
    func rateLimited() async throws {
        let stub = stub()
        stub.on("/v3/forecast", .init(status: 429, body: "{}", headers: [("Retry-After", "30")]))
        try await stub.serving { base in
            let provider = try WattTimeProvider(
                region: "caiso", gridRegion: "CAISO_NORTH", username: .environment("U"), password: .environment("P"),
                baseURL: base,
                rule: .percentile(30), clock: ManualWallClock(now), environment: ["U": "ada", "P": "x"])
            let error = await providerError { _ = try await provider.fetch(now: now) }
            #expect(error?.isRateLimited == true)
            #expect(error?.retryAfter == 30)
        }
    }
}

@Suite("UK Carbon Intensity adapter against a local stub", .serialized)
struct UKCarbonIntensityTests {
    @Test("reads the current half hour and the next 24 hours, times without seconds, green from the index")
    func success() async throws {
        let stub = StubServer()
        stub.on("/intensity", .init(status: 200, body: Recorded.ukCurrent))
        stub.on("/intensity/2026-12-03T12:10Z/fw24h", .init(status: 200, body: Recorded.ukAhead))
        try await stub.serving { base in
            let provider = try UKCarbonIntensityProvider(region: "gb", baseURL: base, rule: nil)
            let snapshot = try await provider.fetch(now: now)
            #expect(snapshot.current.intensity == 115)
            #expect(snapshot.current.green)
            #expect(snapshot.current.rule == "UK carbon intensity index very low or low")
            #expect(snapshot.current.windowStart == at("2026-12-03T12:00:00Z"))
            #expect(snapshot.current.windowEnd == at("2026-12-03T13:00:00Z"))
            #expect(snapshot.current.nextGreenStart == at("2026-12-03T14:00:00Z"))
            #expect(snapshot.forecast.map(\.green) == [true, true, false, false, true])
        }
    }

    @Test("with a threshold rule the intensity decides instead of the index")
    func thresholdRule() async throws {
        let stub = StubServer()
        stub.on("/intensity", .init(status: 200, body: Recorded.ukCurrent))
        stub.on("/intensity/2026-12-03T12:10Z/fw24h", .init(status: 200, body: Recorded.ukAhead))
        try await stub.serving { base in
            let snapshot = try await UKCarbonIntensityProvider(region: "gb", baseURL: base, rule: .threshold(100))
                .fetch(now: now)
            #expect(!snapshot.current.green)
            #expect(snapshot.current.nextGreenStart == at("2026-12-03T14:00:00Z"))
        }
    }

    @Test("its error body and an empty answer are provider errors")
    func failures() async throws {
        let stub = StubServer()
        stub.on("/intensity", .init(status: 500, body: Recorded.ukError))
        try await stub.serving { base in
            let provider = try UKCarbonIntensityProvider(region: "gb", baseURL: base, rule: nil)
            #expect(await providerError { _ = try await provider.fetch(now: now) }?.status == 500)
            stub.on("/intensity", .init(status: 200, body: #"{"data":[]}"#))
            #expect(
                await providerError { _ = try await provider.fetch(now: now) }?.description.contains("has no data")
                    == true)
        }
    }
}

@Suite("Carbon Aware SDK adapter against a local stub", .serialized)
struct CarbonAwareSDKTests {
    @Test("the slot covering now is the current value, the later ones the forecast")
    func success() async throws {
        let stub = StubServer()
        stub.on("/emissions/forecasts/current", .init(status: 200, body: Recorded.carbonAwareForecast))
        try await stub.serving { base in
            let provider = try CarbonAwareSDKProvider(
                region: "us-east", location: "eastus", baseURL: base, rule: .threshold(350))
            let snapshot = try await provider.fetch(now: now)
            #expect(snapshot.current.intensity == 380)
            #expect(!snapshot.current.green)
            #expect(snapshot.current.nextGreenStart == at("2026-12-03T12:15:00Z"))
        }
        #expect(stub.requests.first?.query("location") == "eastus")
    }

    @Test("reads this service's own SDK-shaped endpoint, so two signal services can be chained")
    func roundTrip() async throws {
        let clock = ManualWallClock(now)
        let engine = SignalEngine(
            regions: [RegionProvider(name: "default", provider: StaticProvider(schedule: .builtInDefault))],
            settings: CacheSettings(),
            clock: clock)
        let upstream = SignalHTTPHandler(engine: engine, overrideEnabled: false, registry: nil)
        try await StubServer.serving(upstream) { base in
            let provider = try CarbonAwareSDKProvider(
                region: "chained", location: "default", baseURL: base, rule: .threshold(200))
            let snapshot = try await provider.fetch(now: now)
            #expect(snapshot.current.intensity == 120)
            #expect(snapshot.current.green)
            #expect(snapshot.current.windowEnd == at("2026-12-03T16:00:00Z"))
        }
    }

    @Test("429 and an unknown location are provider errors")
    func failures() async throws {
        let stub = StubServer()
        stub.on("/emissions/forecasts/current", .init(status: 429, body: "{}", headers: [("Retry-After", "5")]))
        try await stub.serving { base in
            let provider = try CarbonAwareSDKProvider(
                region: "us-east", location: "eastus", baseURL: base, rule: .threshold(350))
            #expect(await providerError { _ = try await provider.fetch(now: now) }?.retryAfter == 5)
            stub.on("/emissions/forecasts/current", .init(status: 200, body: "[]"))
            #expect(
                await providerError { _ = try await provider.fetch(now: now) }?.description.contains(
                    "no forecast for location eastus") == true)
        }
    }
}

@Suite("Rules that cannot be decided", .serialized)
struct UndecidableTests {
    @Test("a percentile rule with no forecast to rank against is an error, not an always-green answer")
    func percentileWithoutForecast() async throws {
        let stub = StubServer()
        stub.on("/v3/carbon-intensity/latest", .init(status: 200, body: Recorded.electricityMapsLatest))
        stub.on("/v3/carbon-intensity/forecast", .init(status: 403, body: Recorded.electricityMapsUnauthorized))
        try await stub.serving { base in
            let provider = try ElectricityMapsProvider(
                region: "de", zone: "DE", token: .environment("T"), baseURL: base + "/v3", rule: .percentile(30),
                environment: ["T": "x"])
            let error = await providerError { _ = try await provider.fetch(now: now) }
            #expect(error?.description.contains("set green: {threshold: N}") == true)
        }
    }

    @Test("WattTime with a threshold rule does not call the signal index")
    func thresholdSkipsIndex() async throws {
        let stub = StubServer()
        stub.on("/login", .init(status: 200, body: Recorded.wattTimeLogin))
        stub.on("/v3/forecast", .init(status: 200, body: Recorded.wattTimeForecast))
        try await stub.serving { base in
            let provider = try WattTimeProvider(
                region: "caiso", gridRegion: "CAISO_NORTH", username: .environment("U"), password: .environment("P"),
                baseURL: base,
                rule: .threshold(300), clock: ManualWallClock(now), environment: ["U": "ada", "P": "x"])
            _ = try await provider.fetch(now: now)
        }
        #expect(stub.requests(to: "/v3/signal-index").isEmpty)
    }
}
