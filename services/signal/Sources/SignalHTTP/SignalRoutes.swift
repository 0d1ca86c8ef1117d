import Foundation
public import KarbonetesHTTP
import KarbonetesHTTPServer
public import KarbonetesMetrics
import KarbonetesModels
public import SignalCore

/// The signal service's HTTP side: the `/v1` contract, the Carbon Aware SDK-shaped forecast,
/// `/openapi.yaml`, the demo override, health and metrics. Every error is a JSON
/// ``SignalErrorBody``, including unknown paths and wrong methods.
public struct SignalHTTPHandler: HTTPHandler {
    public let engine: SignalEngine
    public let overrideEnabled: Bool
    private let router: Router
    private let metrics: SignalMetrics?

    /// Longest accepted `region` value; longer is a bad request, not a lookup.
    static let maximumRegionLength = 128

    public init(engine: SignalEngine, overrideEnabled: Bool, registry: MetricsRegistry?, metrics: SignalMetrics? = nil)
    {
        self.engine = engine
        self.overrideEnabled = overrideEnabled
        self.metrics = metrics ?? registry.map(SignalMetrics.init)
        var router = Router()
        let routes = Routes(engine: engine, overrideEnabled: overrideEnabled, metrics: self.metrics)
        router.add(.get, SignalAPI.signalPath) { await routes.signal($0) }
        router.add(.get, SignalAPI.forecastPath) { await routes.forecast($0) }
        router.add(.get, SignalAPI.bestWindowPath) { await routes.bestWindow($0) }
        router.add(.get, SignalAPI.regionsPath) { _ in routes.json(engine.regions) }
        router.add(.put, SignalAPI.overridePath) { await routes.putOverride($0) }
        router.add(.delete, SignalAPI.overridePath) { await routes.deleteOverride($0) }
        router.add(.get, SignalAPI.carbonAwareSDKForecastPath) { await routes.carbonAwareForecast($0) }
        let document = OpenAPIDocument.data
        router.add(.get, SignalAPI.openAPIPath) { _ in
            HTTPResponse(status: .ok, headers: ["Content-Type": "application/yaml"], body: .bytes(document))
        }
        router.addHealthChecks { await engine.isReady() }
        if let registry { router.addMetrics(registry) }
        router.fallback { request in
            Routes.error(SignalErrorBody(code: .notFound, message: "no such path: \(request.path)"))
        }
        self.router = router
    }

    /// The paths the OpenAPI document must describe.
    public static let servedPaths: Set<String> = knownPaths

    /// The paths served, for metrics labels (anything else is `other`, so a scanner cannot
    /// create series without bound).
    static let knownPaths: Set<String> = [
        SignalAPI.signalPath, SignalAPI.forecastPath, SignalAPI.bestWindowPath, SignalAPI.regionsPath,
        SignalAPI.overridePath,
        SignalAPI.carbonAwareSDKForecastPath, SignalAPI.openAPIPath, "/healthz", "/readyz", "/metrics",
    ]

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        var response = await router.handle(request)
        if response.status == .methodNotAllowed {
            let allow = response.headers["Allow"]
            response = Routes.error(
                SignalErrorBody(
                    code: .methodNotAllowed, message: "method \(request.method) is not allowed on \(request.path)"))
            if let allow { response.headers.replaceOrAdd("Allow", allow) }
        }
        metrics?.recordRequest(
            endpoint: Self.knownPaths.contains(request.path) ? request.path : "other", code: response.status.code)
        return response
    }
}

/// The OpenAPI 3 document shipped as a package resource.
enum OpenAPIDocument {
    static let data: Data = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let data = try? Data(contentsOf: url)
        else {
            return Data("openapi: 3.0.3\ninfo: {title: karbonetes-signal, version: unknown}\npaths: {}\n".utf8)
        }
        return data
    }()
}

/// The handlers, each a function of the request.
struct Routes: Sendable {
    let engine: SignalEngine
    let overrideEnabled: Bool
    let metrics: SignalMetrics?

    static func error(_ body: SignalErrorBody) -> HTTPResponse {
        let code = SignalErrorCode(rawValue: body.code) ?? .unavailable
        return .json(body, status: HTTPStatus(code: code.httpStatus), encoder: KubernetesJSON.encoder)
    }

    func json(_ value: some Encodable) -> HTTPResponse { .json(value, encoder: KubernetesJSON.encoder) }

    /// Runs `body`, turning a thrown ``SignalErrorBody`` into its response and anything else
    /// into a 503 that says what went wrong.
    private func answer(_ body: () async throws -> HTTPResponse) async -> HTTPResponse {
        do {
            return try await body()
        } catch let error as SignalErrorBody {
            return Self.error(error)
        } catch {
            return Self.error(SignalErrorBody(code: .unavailable, message: "\(error)"))
        }
    }

    static func badRequest(_ message: String) -> SignalErrorBody {
        SignalErrorBody(code: .badRequest, message: message)
    }

    func region(_ request: HTTPRequest, name: String = SignalAPI.Query.region) throws -> String {
        guard let region = request.query(name), !region.isEmpty else {
            throw Self.badRequest("query parameter \(name) is required")
        }
        guard region.count <= SignalHTTPHandler.maximumRegionLength else {
            throw Self.badRequest(
                "query parameter \(name) is longer than \(SignalHTTPHandler.maximumRegionLength) characters")
        }
        return region
    }

    func time(_ request: HTTPRequest, _ name: String) throws -> Date? {
        guard let text = request.query(name) else { return nil }
        guard let date = RFC3339.parse(text) else {
            throw Self.badRequest(
                "query parameter \(name)=\"\(text.prefix(64))\" is not an RFC 3339 time like 2026-12-03T10:00:00Z")
        }
        return date
    }

    func signal(_ request: HTTPRequest) async -> HTTPResponse {
        await answer {
            let signal = try await engine.signal(region: try region(request))
            return .jsonData(SignalJSON.encode(signal))
        }
    }

    func forecast(_ request: HTTPRequest) async -> HTTPResponse {
        await answer {
            let region = try region(request)
            var hours = 24
            if let text = request.query(SignalAPI.Query.hours) {
                guard let parsed = Int(text), (1...SignalAPI.maximumForecastHours).contains(parsed) else {
                    throw Self.badRequest(
                        "query parameter hours=\"\(text.prefix(32))\" must be a whole number from 1 to \(SignalAPI.maximumForecastHours)"
                    )
                }
                hours = parsed
            }
            return json(try await engine.forecast(region: region, hours: hours))
        }
    }

    func bestWindow(_ request: HTTPRequest) async -> HTTPResponse {
        await answer {
            let region = try region(request)
            guard let durationText = request.query(SignalAPI.Query.duration) else {
                throw Self.badRequest("query parameter duration is required (a Go duration like 2h or 90m)")
            }
            let duration: GoDuration
            do {
                duration = try GoDuration(parsing: durationText)
            } catch {
                throw Self.badRequest("query parameter duration: \(error)")
            }
            let now = engine.clock.now()
            let notBefore = try time(request, SignalAPI.Query.notBefore) ?? now
            let notAfter = try time(request, SignalAPI.Query.notAfter) ?? notBefore.addingTimeInterval(24 * 3600)
            return json(
                try await engine.bestWindow(
                    region: region, notBefore: notBefore, notAfter: notAfter, duration: duration))
        }
    }

    func putOverride(_ request: HTTPRequest) async -> HTTPResponse {
        await answer {
            try requireOverrideEnabled()
            let override: SignalOverride
            do {
                override = try JSONDecoder().decode(SignalOverride.self, from: request.body)
            } catch {
                throw Self.badRequest(
                    "the body must be JSON {\"region\": \"...\", \"green\": true|false, \"intensity\": N (optional)}")
            }
            try engine.setOverride(override)
            return json(try await engine.signal(region: override.region))
        }
    }

    func deleteOverride(_ request: HTTPRequest) async -> HTTPResponse {
        await answer {
            try requireOverrideEnabled()
            try engine.clearOverride(region: try region(request))
            return .empty(status: .noContent)
        }
    }

    private func requireOverrideEnabled() throws {
        guard overrideEnabled else {
            throw SignalErrorBody(
                code: .forbidden,
                message: "the demo override is off: start karbonetes-signal with --enable-demo-override")
        }
    }

    func carbonAwareForecast(_ request: HTTPRequest) async -> HTTPResponse {
        await answer {
            let locations = request.queryItems.filter { $0.name == "location" }.map(\.value).filter { !$0.isEmpty }
            guard !locations.isEmpty else { throw Self.badRequest("query parameter location is required") }
            guard locations.count <= 16 else { throw Self.badRequest("at most 16 locations per request") }
            let dataStartAt = try time(request, "dataStartAt")
            let dataEndAt = try time(request, "dataEndAt")
            var windowMinutes: Int?
            if let text = request.query("windowSize") {
                guard let minutes = Int(text), minutes > 0, minutes <= SignalAPI.maximumForecastHours * 60 else {
                    throw Self.badRequest(
                        "query parameter windowSize=\"\(text.prefix(32))\" must be a positive number of minutes")
                }
                windowMinutes = minutes
            }
            var answers: [CarbonAwareEmissionsForecast] = []
            for location in locations {
                answers.append(
                    try await CarbonAwareEmissionsForecast.make(
                        engine: engine, location: location, dataStartAt: dataStartAt, dataEndAt: dataEndAt,
                        windowMinutes: windowMinutes))
            }
            return json(answers)
        }
    }
}
