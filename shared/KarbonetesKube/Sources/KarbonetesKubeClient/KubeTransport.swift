public import Foundation
public import KarbonetesHTTP
public import KarbonetesHTTPClient

/// How requests reach the API server: the runtime's `HTTPClient` in production, an in-process
/// responder in tests (KarbonetesKubeTestKit's `FakeKubeTransport`).
public protocol KubeTransport: Sendable {
    func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse
    /// A response read line by line, for watches.
    func stream(_ request: HTTPClientRequest) async throws -> KubeStreamingResponse
}

/// A streamed response; a value of our own so that fakes can make one.
public struct KubeStreamingResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// One element per line, without its newline; ending the iteration closes the connection.
    /// Any sequence, so that the runtime's line reader and a test's stream both fit.
    public var lines: any AsyncSequence<Data, any Error> & Sendable

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), lines: any AsyncSequence<Data, any Error> & Sendable) {
        self.status = status
        self.headers = headers
        self.lines = lines
    }
}

extension HTTPClient: KubeTransport {
    public func stream(_ request: HTTPClientRequest) async throws -> KubeStreamingResponse {
        let response: HTTPStreamingResponse = try await stream(request)
        return KubeStreamingResponse(status: response.status, headers: response.headers, lines: response.lines)
    }
}
