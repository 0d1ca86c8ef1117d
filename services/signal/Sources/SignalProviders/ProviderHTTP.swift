import Foundation
import KarbonetesHTTP
import KarbonetesHTTPClient
import KarbonetesModels
import SignalCore

/// The HTTP plumbing every adapter shares: one client per provider, status codes mapped to
/// ``ProviderError``s (429 with its `Retry-After`), bodies decoded with RFC 3339 times.
struct ProviderHTTP: Sendable {
    let client: HTTPClient
    let provider: String
    let region: String

    init(baseURL: String, provider: String, region: String, authorization: HTTPAuthorization? = nil) throws {
        guard let url = URL(string: baseURL), url.scheme != nil, url.host != nil else {
            throw SignalConfigurationError.invalid(
                region: region, field: "baseURL", reason: "\"\(baseURL)\" is not an http(s) URL")
        }
        client = try HTTPClient(
            configuration: HTTPClientConfiguration(
                baseURL: url, authorization: authorization, connectTimeout: .seconds(5), requestTimeout: .seconds(15),
                maxIdleConnections: 2, userAgent: "karbonetes-signal", maxResponseBodyBytes: 8 * 1024 * 1024))
        self.provider = provider
        self.region = region
    }

    /// GETs `path` and decodes a 2xx body as `T`; any other outcome is a ``ProviderError``.
    func get<T: Decodable>(
        _ type: T.Type, _ path: String, query: [(name: String, value: String)] = [],
        headers: HTTPHeaders = HTTPHeaders()
    )
        async throws -> T
    {
        let body = try await getData(path, query: query, headers: headers)
        do {
            return try KubernetesJSON.decoder.decode(T.self, from: body)
        } catch {
            throw ProviderError.badResponse(
                provider: provider, region: region, reason: "\(path): \(Self.decodingProblem(error))")
        }
    }

    func getData(_ path: String, query: [(name: String, value: String)] = [], headers: HTTPHeaders = HTTPHeaders())
        async throws -> Data
    {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(
                HTTPClientRequest(method: .get, path: path, query: query, headers: headers))
        } catch {
            throw ProviderError.unreachable(provider: provider, region: region, reason: "\(error)")
        }
        switch response.status {
        case 200..<300:
            return response.body
        case 429:
            throw ProviderError.rateLimited(
                provider: provider, region: region, retryAfter: Self.retryAfter(response.headers["Retry-After"]))
        default:
            throw ProviderError.httpStatus(
                response.status, provider: provider, region: region,
                body: String(decoding: response.body.prefix(300), as: UTF8.self))
        }
    }

    /// `Retry-After` in seconds (the form rate limiters send); an HTTP date counts from now.
    static func retryAfter(_ value: String?) -> TimeInterval? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { max(0, $0.timeIntervalSinceNow) }
    }

    static func decodingProblem(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "at \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
    }

    func shutdown() async { await client.shutdown() }
}
