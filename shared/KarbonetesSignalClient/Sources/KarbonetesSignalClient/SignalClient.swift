public import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
public import KarbonetesModels

/// The calls a consumer of the signal contract makes; the HTTP client implements it, tests
/// fake it.
public protocol SignalFetching: Sendable {
    func signal(region: String) async throws -> CarbonSignal
    func forecast(region: String, hours: Int) async throws -> CarbonForecast
}

/// Typed calls to `GET /v1/signal` and `GET /v1/forecast` of a signal service.
public struct SignalClient: SignalFetching {
    private let http: HTTPClient
    private let baseURL: URL

    /// - Parameter timeout: per call; short, because admission has a 2 s budget in all.
    public init(baseURL: URL, timeout: Duration = .milliseconds(800)) throws {
        self.baseURL = baseURL
        http = try HTTPClient(configuration: HTTPClientConfiguration(
            baseURL: baseURL, connectTimeout: timeout, requestTimeout: timeout, maxIdleConnections: 4,
            userAgent: "karbonetes-signal-client", maxResponseBodyBytes: 8 * 1024 * 1024))
    }

    public func signal(region: String) async throws -> CarbonSignal {
        try await get(CarbonSignal.self, SignalAPI.signalPath, [(SignalAPI.Query.region, region)], region: region)
    }

    public func forecast(region: String, hours: Int) async throws -> CarbonForecast {
        try await get(CarbonForecast.self, SignalAPI.forecastPath, [(SignalAPI.Query.region, region), (SignalAPI.Query.hours, String(hours))], region: region)
    }

    public func shutdown() async { await http.shutdown() }

    private func get<T: Decodable>(_ type: T.Type, _ path: String, _ query: [(String, String)], region: String) async throws -> T {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(HTTPClientRequest(method: .get, path: path, query: query.map { (name: $0.0, value: $0.1) }))
        } catch {
            throw SignalClientError.unreachable(baseURL, region: region, reason: String(describing: error))
        }
        guard response.status == 200 else {
            let body = try? KubernetesJSON.decoder.decode(SignalErrorBody.self, from: response.body)
            throw SignalClientError.answered(response.status, region: region, message: body?.message ?? String(decoding: response.body.prefix(200), as: UTF8.self))
        }
        do {
            return try KubernetesJSON.decoder.decode(type, from: response.body)
        } catch {
            throw SignalClientError.malformed(region: region, reason: String(describing: error))
        }
    }
}

/// Why the signal could not be had, naming the region and the service.
public struct SignalClientError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case unreachable(String, String)
        case answered(Int, String)
        case malformed(String)
    }

    private let kind: Kind
    public let region: String

    static func unreachable(_ url: URL, region: String, reason: String) -> SignalClientError {
        SignalClientError(kind: .unreachable(url.absoluteString, reason), region: region)
    }

    static func answered(_ status: Int, region: String, message: String) -> SignalClientError {
        SignalClientError(kind: .answered(status, message), region: region)
    }

    static func malformed(region: String, reason: String) -> SignalClientError {
        SignalClientError(kind: .malformed(reason), region: region)
    }

    /// The HTTP status the service answered with, if it answered.
    public var status: Int? {
        if case .answered(let status, _) = kind { return status }
        return nil
    }

    public var description: String {
        switch kind {
        case .unreachable(let url, let reason): return "signal service \(url) unreachable for region \"\(region)\": \(reason)"
        case .answered(let status, let message): return "signal service answered \(status) for region \"\(region)\": \(message)"
        case .malformed(let reason): return "signal service sent an unreadable answer for region \"\(region)\": \(reason)"
        }
    }
}
