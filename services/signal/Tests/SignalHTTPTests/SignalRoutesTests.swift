import Foundation
import KarbonetesHTTP
import KarbonetesMetrics
import KarbonetesModels
import KarbonetesYAML
import SignalCore
import SignalHTTP
import SignalTestKit
import Testing

func at(_ text: String) -> Date {
    guard let date = RFC3339.parse(text) else { fatalError("bad test time \(text)") }
    return date
}

/// The handler over the static mock and a scripted region, in memory (no sockets).
struct Fixture {
    let clock = ManualWallClock(at("2026-12-03T12:00:00Z"))
    let scripted = ScriptedProvider(.answer(intensity: 200, green: false))
    let registry = MetricsRegistry()
    let handler: SignalHTTPHandler

    init(overrideEnabled: Bool = false) {
        let engine = SignalEngine(
            regions: [
                RegionProvider(name: "default", provider: StaticProvider(schedule: .builtInDefault)),
                RegionProvider(name: "scripted", provider: scripted),
            ],
            settings: CacheSettings(ttl: 30, staleLimit: 600, failureBackoff: 5),
            clock: clock)
        handler = SignalHTTPHandler(engine: engine, overrideEnabled: overrideEnabled, registry: registry)
    }

    func send(_ method: HTTPMethod, _ target: String, body: String = "") async -> (
        status: Int, body: Data, response: HTTPResponse
    ) {
        let response = await handler.handle(HTTPRequest(method: method, target: target, body: Data(body.utf8)))
        guard case .bytes(let data) = response.body else { return (response.status.code, Data(), response) }
        return (response.status.code, data, response)
    }

    func get<T: Decodable>(_ type: T.Type, _ target: String) async throws -> T {
        let (status, body, _) = await send(.get, target)
        #expect(status == 200, "\(target): \(String(decoding: body, as: UTF8.self))")
        return try KubernetesJSON.decoder.decode(T.self, from: body)
    }
}

struct BadRequestCase: CustomStringConvertible, Sendable {
    var target: String
    var wantStatus: Int
    var wantCode: SignalErrorCode
    var wantMessage: String
    var description: String { target }
}

@Suite("Signal HTTP handlers, in memory")
struct SignalRoutesTests {
    @Test("GET /v1/signal answers the static mock's reading with its window, rule and age")
    func signal() async throws {
        let fixture = Fixture()
        let signal = try await fixture.get(CarbonSignal.self, "/v1/signal?region=default")
        #expect(signal.region == "default")
        #expect(signal.green)
        #expect(signal.intensity == 120)
        #expect(signal.windowStart == at("2026-12-03T10:00:00Z"))
        #expect(signal.windowEnd == at("2026-12-03T16:00:00Z"))
        #expect(signal.nextGreenStart == at("2026-12-04T10:00:00Z"))
        #expect(signal.rule == "static window 10:00-16:00 UTC")
        #expect(signal.source == "static")
        #expect(!signal.stale)
        fixture.clock.advance(by: 12)
        #expect(try await fixture.get(CarbonSignal.self, "/v1/signal?region=default").ageSeconds == 12)
    }

    @Test("GET /v1/forecast returns the slots overlapping the asked hours, at most one hour each")
    func forecast() async throws {
        let fixture = Fixture()
        let forecast = try await fixture.get(CarbonForecast.self, "/v1/forecast?region=default&hours=6")
        #expect(forecast.points.count == 6)
        #expect(forecast.points.first?.start == at("2026-12-03T12:00:00Z"))
        #expect(forecast.points.map(\.green) == [true, true, true, true, false, false])
        let week = try await fixture.get(CarbonForecast.self, "/v1/forecast?region=default&hours=168")
        #expect(week.points.count == 168)
    }

    @Test("GET /v1/best-window finds the next green window for a job that does not fit in the current one")
    func bestWindow() async throws {
        let fixture = Fixture()
        let best = try await fixture.get(
            BestWindow.self,
            "/v1/best-window?region=default&notBefore=2026-12-03T14:00:00Z&notAfter=2026-12-04T14:00:00Z&duration=3h")
        #expect(best.start == at("2026-12-04T10:00:00Z"))
        #expect(best.end == at("2026-12-04T13:00:00Z"))
        #expect(best.meanIntensity == 120)
        #expect(best.duration == "3h0m0s")
        let partial = try await fixture.get(
            BestWindow.self,
            "/v1/best-window?region=default&notBefore=2026-12-03T14:00:00Z&notAfter=2026-12-03T20:00:00Z&duration=4h")
        #expect(partial.start == at("2026-12-03T14:00:00Z"))
        #expect(partial.meanIntensity == (2 * 120 + 2 * 380) / 4)
    }

    @Test("GET /v1/regions lists every region with its provider")
    func regions() async throws {
        let regions = try await Fixture().get(SignalRegions.self, "/v1/regions")
        #expect(
            regions.regions == [
                SignalRegion(name: "default", provider: "static"), SignalRegion(name: "scripted", provider: "scripted"),
            ])
    }

    static let badRequests: [BadRequestCase] = [
        BadRequestCase(
            target: "/v1/signal", wantStatus: 400, wantCode: .badRequest,
            wantMessage: "query parameter region is required"),
        BadRequestCase(
            target: "/v1/signal?region=", wantStatus: 400, wantCode: .badRequest, wantMessage: "region is required"),
        BadRequestCase(
            target: "/v1/signal?region=" + String(repeating: "x", count: 200), wantStatus: 400, wantCode: .badRequest,
            wantMessage: "longer than 128"),
        BadRequestCase(
            target: "/v1/signal?region=mars", wantStatus: 404, wantCode: .unknownRegion,
            wantMessage: "unknown region \"mars\""),
        BadRequestCase(
            target: "/v1/signal?region=%00%ff", wantStatus: 404, wantCode: .unknownRegion, wantMessage: "unknown region"
        ),
        BadRequestCase(
            target: "/v1/forecast?region=default&hours=0", wantStatus: 400, wantCode: .badRequest,
            wantMessage: "from 1 to 168"),
        BadRequestCase(
            target: "/v1/forecast?region=default&hours=169", wantStatus: 400, wantCode: .badRequest,
            wantMessage: "from 1 to 168"),
        BadRequestCase(
            target: "/v1/forecast?region=default&hours=99999999999999999999999", wantStatus: 400, wantCode: .badRequest,
            wantMessage: "hours="),
        BadRequestCase(
            target: "/v1/forecast?region=default&hours=two", wantStatus: 400, wantCode: .badRequest,
            wantMessage: "hours=\"two\""),
        BadRequestCase(
            target: "/v1/forecast?region=mars&hours=2", wantStatus: 404, wantCode: .unknownRegion, wantMessage: "mars"),
        BadRequestCase(
            target: "/v1/best-window?region=default", wantStatus: 400, wantCode: .badRequest,
            wantMessage: "duration is required"),
        BadRequestCase(
            target: "/v1/best-window?region=default&duration=soon", wantStatus: 400, wantCode: .badRequest,
            wantMessage: "invalid duration \"soon\""),
        BadRequestCase(
            target: "/v1/best-window?region=default&duration=-1h", wantStatus: 400, wantCode: .badRequest,
            wantMessage: "negative duration"),
        BadRequestCase(
            target: "/v1/best-window?region=default&duration=0s", wantStatus: 400, wantCode: .badRequest,
            wantMessage: "must be positive"),
        BadRequestCase(
            target: "/v1/best-window?region=default&duration=9999999999h", wantStatus: 400, wantCode: .badRequest,
            wantMessage: "too long"),
        BadRequestCase(
            target: "/v1/best-window?region=default&duration=1h&notBefore=tomorrow", wantStatus: 400,
            wantCode: .badRequest, wantMessage: "notBefore=\"tomorrow\" is not an RFC 3339 time"),
        BadRequestCase(
            target: "/v1/best-window?region=default&duration=1h&notAfter=2026-13-01T00:00:00Z", wantStatus: 400,
            wantCode: .badRequest, wantMessage: "notAfter="),
        BadRequestCase(
            target:
                "/v1/best-window?region=default&duration=1h&notBefore=2026-12-04T00:00:00Z&notAfter=2026-12-03T00:00:00Z",
            wantStatus: 400, wantCode: .badRequest, wantMessage: "is after notAfter"),
        BadRequestCase(
            target: "/v1/best-window?region=default&duration=1h&notAfter=2027-12-03T00:00:00Z", wantStatus: 400,
            wantCode: .badRequest, wantMessage: "168h forecast horizon"),
        BadRequestCase(
            target: "/v1/best-window?region=default&duration=200h", wantStatus: 400, wantCode: .badRequest,
            wantMessage: "168h forecast horizon"),
        BadRequestCase(
            target:
                "/v1/best-window?region=default&duration=1h&notBefore=2026-12-01T00:00:00Z&notAfter=2026-12-01T05:00:00Z",
            wantStatus: 400, wantCode: .badRequest, wantMessage: "is in the past"),
        BadRequestCase(
            target: "/emissions/forecasts/current", wantStatus: 400, wantCode: .badRequest,
            wantMessage: "location is required"),
        BadRequestCase(
            target: "/emissions/forecasts/current?location=default&windowSize=0", wantStatus: 400,
            wantCode: .badRequest, wantMessage: "windowSize"),
        BadRequestCase(target: "/nowhere", wantStatus: 404, wantCode: .notFound, wantMessage: "no such path: /nowhere"),
    ]

    @Test(
        "bad input is answered with a JSON error and the right status, never a crash or a made-up value",
        arguments: badRequests)
    func badInput(_ testCase: BadRequestCase) async throws {
        let (status, body, response) = await Fixture().send(.get, testCase.target)
        #expect(status == testCase.wantStatus)
        #expect(response.headers["Content-Type"] == "application/json")
        let error = try JSONDecoder().decode(SignalErrorBody.self, from: body)
        #expect(error.code == testCase.wantCode.rawValue)
        #expect(error.message.contains(testCase.wantMessage), "\(error.message)")
    }

    @Test("a wrong method is a JSON 405 that keeps the Allow header")
    func wrongMethod() async throws {
        let (status, body, response) = await Fixture().send(.post, "/v1/signal?region=default")
        #expect(status == 405)
        #expect(response.headers["Allow"] == "GET, HEAD")
        #expect(try JSONDecoder().decode(SignalErrorBody.self, from: body).code == "method_not_allowed")
    }

    @Test(
        "provider down with nothing cached is 503; with a value cached it is served stale with its age until the limit")
    func providerDown() async throws {
        let fixture = Fixture()
        fixture.scripted.set(.fail(.httpStatus(500, provider: "scripted", region: "scripted", body: "oops")))
        let (status, body, _) = await fixture.send(.get, "/v1/signal?region=scripted")
        #expect(status == 503)
        let error = try JSONDecoder().decode(SignalErrorBody.self, from: body)
        #expect(error.code == "unavailable")
        #expect(error.message.contains("answered HTTP 500"))
        fixture.scripted.set(.answer(intensity: 210, green: false))
        fixture.clock.advance(by: 5)
        #expect(try await fixture.get(CarbonSignal.self, "/v1/signal?region=scripted").intensity == 210)
        fixture.scripted.set(.fail(.unreachable(provider: "scripted", region: "scripted", reason: "timeout")))
        fixture.clock.advance(by: 120)
        let stale = try await fixture.get(CarbonSignal.self, "/v1/signal?region=scripted")
        #expect(stale.stale)
        #expect(stale.ageSeconds == 120)
        #expect(stale.intensity == 210)
        fixture.clock.advance(by: 481)
        #expect(await fixture.send(.get, "/v1/signal?region=scripted").status == 503)
    }

    @Test("the demo override is refused unless enabled")
    func overrideDisabled() async throws {
        let fixture = Fixture(overrideEnabled: false)
        let put = await fixture.send(.put, "/v1/override", body: #"{"region":"default","green":false}"#)
        #expect(put.status == 403)
        #expect(
            try JSONDecoder().decode(SignalErrorBody.self, from: put.body).message.contains("--enable-demo-override"))
        #expect(await fixture.send(.delete, "/v1/override?region=default").status == 403)
        #expect(try await fixture.get(CarbonSignal.self, "/v1/signal?region=default").green)
    }

    @Test("with the override enabled, PUT forces green and DELETE restores the provider's answer")
    func overrideEnabled() async throws {
        let fixture = Fixture(overrideEnabled: true)
        let put = await fixture.send(.put, "/v1/override", body: #"{"region":"scripted","green":true,"intensity":50}"#)
        #expect(put.status == 200)
        let forced = try await fixture.get(CarbonSignal.self, "/v1/signal?region=scripted")
        #expect(forced.green)
        #expect(forced.intensity == 50)
        #expect(forced.source == "override")
        #expect(await fixture.send(.delete, "/v1/override?region=scripted").status == 204)
        let restored = try await fixture.get(CarbonSignal.self, "/v1/signal?region=scripted")
        #expect(!restored.green)
        #expect(restored.intensity == 200)
        #expect(await fixture.send(.put, "/v1/override", body: "green").status == 400)
        #expect(await fixture.send(.put, "/v1/override", body: #"{"region":"mars","green":true}"#).status == 404)
        #expect(
            await fixture.send(.put, "/v1/override", body: #"{"region":"default","green":true,"intensity":-3}"#).status
                == 400)
    }

    @Test("the Carbon Aware SDK endpoint answers its JSON shape with the optimal window and the forecast")
    func carbonAwareSDK() async throws {
        let fixture = Fixture()
        let answer = try await fixture.get(
            [CarbonAwareEmissionsForecast].self,
            "/emissions/forecasts/current?location=default&location=scripted&dataStartAt=2026-12-03T14:00:00Z&dataEndAt=2026-12-04T14:00:00Z&windowSize=180"
        )
        #expect(answer.map(\.location) == ["default", "scripted"])
        let first = try #require(answer.first)
        #expect(first.windowSize == 180)
        #expect(
            first.optimalDataPoints == [
                .init(location: "default", timestamp: at("2026-12-04T10:00:00Z"), duration: 180, value: 120)
            ])
        #expect(first.forecastData.count == 24)
        #expect(first.forecastData.allSatisfy { $0.duration == 60 })
        let raw = await fixture.send(.get, "/emissions/forecasts/current?location=default&windowSize=60").body
        let object = try #require(try JSONSerialization.jsonObject(with: raw) as? [[String: Any]])
        #expect(
            Set(object[0].keys) == [
                "generatedAt", "requestedAt", "location", "dataStartAt", "dataEndAt", "windowSize", "optimalDataPoints",
                "forecastData",
            ])
    }

    @Test("/openapi.yaml is served, parses as YAML, and documents every route")
    func openAPI() async throws {
        let (status, body, response) = await Fixture().send(.get, "/openapi.yaml")
        #expect(status == 200)
        #expect(response.headers["Content-Type"] == "application/yaml")
        let document = try YAML.parse(String(decoding: body, as: UTF8.self))
        #expect(document["openapi"]?.stringValue?.hasPrefix("3.") == true)
        guard case .mapping(let paths)? = document["paths"] else {
            Issue.record("no paths mapping")
            return
        }
        let documented = Set(paths.map(\.key))
        #expect(documented == SignalHTTPHandler.servedPaths)
    }

    @Test("metrics count requests by endpoint and status and expose intensity, green and staleness per region")
    func metrics() async throws {
        let fixture = Fixture()
        _ = await fixture.send(.get, "/v1/signal?region=default")
        _ = await fixture.send(.get, "/v1/signal?region=mars")
        _ = await fixture.send(.get, "/wp-admin")
        let metrics = SignalMetrics(registry: fixture.registry)
        await metrics.observe(fixture.handler.engine)
        let text = String(decoding: await fixture.send(.get, "/metrics").body, as: UTF8.self)
        #expect(text.contains(#"karbonetes_signal_requests_total{endpoint="/v1/signal",code="200"} 1"#))
        #expect(text.contains(#"karbonetes_signal_requests_total{endpoint="/v1/signal",code="404"} 1"#))
        #expect(text.contains(#"karbonetes_signal_requests_total{endpoint="other",code="404"} 1"#))
        #expect(text.contains(#"karbonetes_signal_intensity_grams_per_kwh{region="default"} 120"#))
        #expect(text.contains(#"karbonetes_signal_green{region="default"} 1"#))
        #expect(text.contains(#"karbonetes_signal_staleness_seconds{region="default"} 0"#))
        #expect(text.contains(#"karbonetes_signal_provider_fetches_total"#))
    }
}
